export {
  FeedbackConflictError,
  FeedbackStore,
  type LabelActor,
  type LabelOutcome,
  type LabelResult,
  type LabelTarget,
} from './feedback.store';
export {
  LiveQuality,
  REVIEW_SOURCES,
  SAMPLED_SOURCES,
  type LiveWindow,
  type VersionQuality,
} from './live-quality.service';
export { FeedbackExamples, type FeedbackExample, type FeedbackExport } from './feedback-examples.reader';
export { PREDICTION_IMAGES_PREFIX, PredictionImages, type ImageSaveResult } from './prediction-images.store';
