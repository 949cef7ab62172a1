export {
  ReviewQueue,
  SKIP_REASONS,
  type ReviewLabelOutcome,
  type ReviewListing,
  type ReviewQueueOptions,
  type Reviewer,
  type ReviewStats,
  type SkipReason,
} from './review.queue';
export {
  sampleForReview,
  titleKey,
  uncertaintyMargin,
  type ReviewCandidate,
  type ReviewSampling,
} from './review-sampling.util';
export { ReviewItemClosedError, ReviewItemLeasedError, ReviewItemNotFoundError } from './review.errors';
