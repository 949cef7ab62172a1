export { trainModel } from './model-training.step';
export { TrainingWorkflow } from './training.workflow';
export { TrainingModule, type TrainingModuleOptions } from './training.module';
export type {
  GateDecision,
  ModelTrainingInput,
  TrainedModel,
  TrainingIsolation,
  TrainingLineage,
  TrainingOutcome,
  TrainingPhase,
  TrainingProgress,
  TrainingProgressListener,
  TrainingRequest,
} from './training.types';
export type {
  FeedbackFile,
  FeedbackRow,
  FeedbackTrainingSummary,
  RecentFeedbackFigures,
  RecentFeedbackScores,
} from './training-feedback.util';
export { codeVersion } from './code-version.util';
export { fetchDataFromStore } from './store-data.fetcher';
