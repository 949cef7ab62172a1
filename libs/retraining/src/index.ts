export {
  trainOptions,
  type CandidateInput,
  type CandidateResult,
  type TrainingParams,
  type TrainingProgress,
} from './candidate-training';
export {
  RetrainingJobNotFoundError,
  RetrainingJobs,
  type RetrainingJobView,
  type RetrainingRequest,
} from './retraining-jobs';
export {
  retrainingSettings,
  RetrainingRunner,
  type RetrainingOutcome,
  type RetrainingRunnerSettings,
} from './retraining.runner';
export { trainInChildProcess } from './training-process';
export { RetrainingModule } from './retraining.module';
export { RetrainingMetrics, type RunOutcome } from './retraining.metrics';
