export { directoryDataSource } from './directory.data-source';
export { trainModel, type TrainModelRequest } from './model.training';
export { TrainingWorkflow } from './training.workflow';
export type {
  GateDecision,
  LoadedTrainingData,
  ModelTrainer,
  PromotionGate,
  TrainedModel,
  TrainingDataSource,
  TrainingLineage,
  TrainingOutcome,
  TrainingPhase,
  TrainingProgress,
  TrainingProgressListener,
  TrainingRequest,
} from './training.types';
export { codeVersion } from './code-version';
export { fetchDataFromStore } from './store.data-source';
