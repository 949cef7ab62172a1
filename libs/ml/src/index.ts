export type { PredictionInput, ProductExample } from './data/product.types';
export { rakutenDataDir } from './data/data-location.util';
export { demoCatalogueDir } from './data/demo-catalogue.dataset';
export { SeededRandom } from './runtime/random.util';
export { runInSlices, runNow, type SlicedWork } from './runtime/sliced-work.util';
export { initBackend, type BackendName } from './runtime/tf-backend.setup';
export { DatasetError } from './data/dataset.error';
export { findRakutenLayout, type RakutenLayout } from './data/rakuten-layout.reader';
export { readCsvRecords, requireColumns, type CsvRecord, type CsvTable } from './data/csv.reader';
export {
  PRODUCT_TYPE_CODES,
  DEFAULT_CATEGORY_NAMES,
  CATEGORY_NAMES_FILE,
  loadCategoryNames,
  parseProductTypeCode,
} from './data/product-type.codes';
export {
  loadRakutenDataset,
  type DatasetReport,
  type LoadRakutenOptions,
  type RakutenDataset,
} from './data/rakuten-dataset.loader';
export {
  argmaxRows,
  evaluateClassification,
  type ClassificationReport,
  type ClassMetrics,
} from '@app/classification-metrics';
export { stratifiedKFold, type Fold } from './evaluation/stratified-k-fold.util';
export { normalizeText, type NormalizeOptions } from './text/text.normalizer';
export {
  TextFeatureExtractor,
  DEFAULT_TEXT_FEATURE_OPTIONS,
  type ProductText,
  type SparseRow,
  type TextFeatureOptions,
  type TextFeatureParams,
  type TextFeatureArrays,
} from './text/text-features.extractor';
export {
  TextClassifier,
  DEFAULT_TEXT_CLASSIFIER_OPTIONS,
  type TextClassifierOptions,
} from './text/text.classifier';
export { ArtifactError, type ArtifactManifest } from './artifacts/model-artifact.format';
export {
  describeInput,
  InputVocabulary,
  type DescribableInput,
  type InputDescription,
} from './monitoring/input-description.util';
export {
  InvalidInputError,
  ProductClassifier,
  type LoadOptions,
  type DecodedItem,
  type Prediction,
  type ScoredClass,
} from './model/product.classifier';
export { fuseProbabilities } from './model/probability-fusion.util';
export {
  acceptanceThreshold,
  coverageCurve,
  decide,
  expectedCalibrationError,
  reliabilityTable,
  type CoveragePoint,
  type Decision,
  type ReliabilityBin,
} from './calibration/calibration.report';
export {
  applyTemperature,
  fitTemperature,
  negativeLogLikelihood,
} from './calibration/temperature-scaling.util';
export {
  DEFAULT_CALIBRATION_FRACTION,
  holdOutForCalibration,
  type CalibrationSplit,
} from './calibration/calibration-split.util';
export {
  acceptanceThresholds,
  calibrateModality,
  MODALITIES,
  temperatureOf,
  type Modality,
  type ModalityCalibration,
  type ModelCalibration,
} from './calibration/model-calibration.util';
export {
  calibrateOnHeldOut,
  type DriftReference,
  type DriftReferenceRow,
} from './calibration/held-out.calibrator';
export { crossValidate, type CrossValidationResult } from './fitting/cross-validation.runner';
export {
  extractDatasetFeatures,
  type DatasetFeatureOptions,
  type ImageFeatureStore,
} from './fitting/dataset-images.loader';
export { evaluateClassifier, type ModelEvaluation } from './fitting/model.evaluator';
export {
  DEFAULT_TRAIN_OPTIONS,
  imageFeatureSource,
  trainingDocuments,
  trainProductClassifier,
  type CalibrationFigures,
  type TrainingResources,
  validationMetrics,
  type ModelCard,
  type TrainingResult,
  type TrainOptions,
} from './fitting/product-classifier.trainer';
export { loadTrainingData } from './fitting/training-data.util';
export type { ImageCache, Log, TrainingData } from './fitting/training.types';
export {
  checkImageHeader,
  decodeImage,
  DEFAULT_IMAGE_LIMITS,
  ImageDecodeError,
  ImageDecoder,
  ImageTooLargeError,
  sniffImageFormat,
  type ImageFormat,
  type ImageLimits,
} from './image/image.decoder';
export { decodeImageFiles, type DecodedImages } from './image/image.decoder';
export {
  featureSourceKey,
  ImageClassifier,
  type ImageClassifierOptions,
  type ImageHead,
  type ImageFeatureSource,
} from './image/image.classifier';
export {
  BackboneThreadPool,
  BackboneUnavailableError,
  InThreadBackboneRunner,
  type BackboneRunner,
} from './image/backbone.runner';
export { backboneSource, computeImageFeatures, featureFolder } from './image/image.featurizer';
export {
  DEFAULT_BACKBONE,
  PretrainedBackbone,
  type BackboneModel,
  type BackboneSpec,
} from './image/pretrained-backbone.model';
export type { EpochProgress } from './runtime/epoch-progress.types';
export { LINEAR_VIEWS } from './text/linear-svm.classifier';
export {
  DEFAULT_TEXT_ENSEMBLE_OPTIONS,
  TextEnsemble,
  type LinearView,
  type TextEnsembleOptions,
} from './text/text-ensemble.classifier';
export { ScoringUnavailableError } from './text/text-scoring.pool';
export {
  DEFAULT_EVALUATION_SPLIT,
  designationKey,
  splitForEvaluation,
  type EvaluationRows,
  type EvaluationSplit,
  type EvaluationSplitOptions,
  type EvaluationSplitSummary,
} from './evaluation/evaluation-split.util';
export { mcnemarTest, type McNemarResult } from './evaluation/mcnemar.stats';
export {
  DEFAULT_PROMOTION_GATE,
  decidePromotion,
  type ClassDrop,
  type ModelSummary,
  type PromotionDecision,
  type PromotionGateOptions,
} from './gate/promotion.gate';
export {
  evaluateOnSplit,
  NO_PREDICTION,
  type EvaluateOnSplitOptions,
  type ScoredSplit,
  type SplitScores,
} from './gate/split.scorer';
