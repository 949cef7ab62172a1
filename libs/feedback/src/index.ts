export {
  FeedbackConflictError,
  FeedbackStore,
  type LabelActor,
  type LabelOutcome,
  type LabelResult,
  type LabelTarget,
} from './feedback.store';
export { LiveQuality, type LiveWindow, type VersionQuality } from './live-quality';
