export {
  trainOptions,
  type CandidateDecision,
  type CandidateInput,
  type CandidateResult,
  type FeedbackFile,
  type FeedbackRow,
  type FeedbackTrainingSummary,
  type RecentFeedbackFigures,
  type RecentFeedbackScores,
  type TrainingParams,
  type TrainingProgress,
} from './candidate-training';
export {
  RetrainingJobNotCancellableError,
  RetrainingJobNotFoundError,
  RetrainingJobs,
  type RecoveredJobs,
  type RetrainingJobView,
  type RetrainingRequest,
  type RetrainingRequestResult,
} from './retraining-jobs';
export { AlertTriggers, type AlertHandling, type NotifiedAlert } from './alert-triggers';
export {
  retrainingSettings,
  RetrainingRunner,
  type RetrainingOutcome,
  type RetrainingRunnerSettings,
} from './retraining.runner';
export { trainInChildProcess } from './training-process';
export { RetrainingModule } from './retraining.module';
export { RetrainingMetrics, type RunOutcome } from './retraining.metrics';
