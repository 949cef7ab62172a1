export type { TrainingParams } from './retraining-params.util';
export {
  RetrainingJobNotCancellableError,
  RetrainingJobNotFoundError,
  RetrainingJobs,
  type RecoveredJobs,
  type RetrainingJobView,
  type RetrainingRequest,
  type RetrainingRequestResult,
} from './retraining-jobs.service';
export {
  AlertTriggers,
  type AlertAction,
  type AlertHandling,
  type NotifiedAlert,
} from './alert-triggers.service';
export { RetrainingRunner, type RetrainingOutcome, type RetrainingRunnerSettings } from './retraining.runner';
export { RetrainingModule } from './retraining.module';
export { RetrainingRunnerModule } from './retraining-runner.module';
export { RetrainingMetrics, type RunOutcome } from './retraining.metrics';
