import type { EpochProgress, ImageFeatureStore, TrainingData, TrainOptions } from '@app/ml';
import type { ModelVersionRecord, PromotionRequest, PromotionResult } from '@app/registry';

/** Where a model came from, recorded on its registry row and in its model card. */
export interface TrainingLineage {
  /** What asked for it: "cli", "bootstrap", "admin:<user>", later "alert:<key>". */
  trigger: string;
  /** The process that trained it (the registry's `source`): "cli", "bootstrap", "worker". */
  source: string;
  /** Who registers it (the registry's `createdBy`): a user name, "cli", "bootstrap". */
  createdBy: string;
  /** The queue job that trained it, when one did. */
  jobId?: string | null;
  /** The version it was retrained from; must be registered. */
  parentVersion?: string | null;
}

export type TrainingPhase = 'loading' | 'training' | 'saving' | 'registering' | 'gating' | 'promoting';

/** One step of a training run, for a log line or a job's progress. */
export interface TrainingProgress {
  phase: TrainingPhase;
  message: string;
  /** On the line that closes an epoch: which network, and its figures. */
  epoch?: EpochProgress & { model: string };
}

export type TrainingProgressListener = (event: TrainingProgress) => void;

/** Rows to train on, and what the model card says about where they came from. */
export interface LoadedTrainingData {
  data: TrainingData;
  provenance: Record<string, unknown>;
}

/**
 * Where the training rows come from: a Rakuten-layout folder today (directoryDataSource). A source that adds
 * labelled feedback rows wraps another one and appends to its `data`.
 */
export interface TrainingDataSource {
  load(log: (line: string) => void): Promise<LoadedTrainingData>;
}

export interface GateDecision {
  promote: boolean;
  /** Why, in words a person reads in the job and the registry. */
  reasons: string[];
}

/** Decides, between registration and promotion, whether a freshly registered candidate may go to production. */
export type PromotionGate = (candidate: ModelVersionRecord) => Promise<GateDecision>;

export interface TrainingRequest {
  data: TrainingDataSource;
  options: TrainOptions;
  lineage: TrainingLineage;
  /**
   * Where the model directory is written and kept (the CLI's --out). Without it, a work directory under the
   * workflow's work root, removed once the version is registered.
   */
  outDir?: string;
  /**
   * One version per key (a queue job's id): a run whose key is already registered skips training and returns
   * that version, going on to the gate and promotion, so that a retried job never registers twice.
   */
  idempotencyKey?: string;
  /**
   * Make the new version the production model; when `gate` is given, or the trainer made a decision, only if it
   * says so.
   */
  promote?: PromotionRequest & { gate?: PromotionGate };
  progress?: TrainingProgressListener;
  /** Writes the model directory; default: trainModel on `data` with `options`, in this process. */
  trainer?: ModelTrainer;
  /** Image features cached by photo hash (the artifact store), for the default trainer. */
  featureStore?: ImageFeatureStore;
}

export interface TrainedModel {
  /** The model directory, as `npm run train` writes it. */
  dir: string;
  /** The contents of its metrics.json. */
  metrics: Record<string, unknown>;
  /** The model's parts: text, and image when one was trained. */
  components: string[];
  /** More lineage, recorded on the version (e.g. the evaluation split, the code version, durations). */
  lineage?: Record<string, unknown>;
  /**
   * The gate's decision, when the trainer made it while the candidate was in memory (a retraining job scores the
   * candidate and production on the evaluation split in its training process). Stored on the version.
   */
  gate?: GateDecision & Record<string, unknown>;
}

/**
 * How the model directory gets written: in this process by default (trainModel), or elsewhere (a retraining job
 * trains in a child process, so that the event loop stays free). Everything after it is the workflow's.
 */
export type ModelTrainer = (outDir: string, progress: TrainingProgressListener) => Promise<TrainedModel>;

export interface TrainingOutcome extends Omit<TrainedModel, 'dir' | 'gate' | 'lineage'> {
  record: ModelVersionRecord;
  /** The model directory, when the request asked to keep it (outDir). */
  modelDir?: string;
  /** The gate's decision, when a gate ran. */
  gate?: GateDecision;
  /** Set when the version was promoted by this run. */
  promotion?: PromotionResult;
  /** True when an earlier run with the same idempotency key had registered the version: nothing was trained. */
  reused: boolean;
}
