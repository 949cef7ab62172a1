import type { PromotionDecision, PromotionGateOptions, TrainOptions } from '@app/ml';
import type { ModelVersionRecord, PromotionRequest, PromotionResult } from '@app/registry';
import type { ArtifactStoreLocation } from '@app/storage';
import type { FeedbackFile, RecentFeedbackScores } from './training-feedback.util';

/** Where a model came from, recorded on its registry row and in its model card. */
export interface TrainingLineage {
  /** What asked for it: "cli", "bootstrap", "admin:<user>", "alert:<key>". */
  trigger: string;
  /** The process that trained it (the registry's `source`): "cli", "retraining". */
  source: string;
  /** Who registers it (the registry's `createdBy`): a user name, "cli", the job's trigger. */
  createdBy: string;
  /** The retraining job that trained it, when one did. */
  jobId?: string | null;
  /** The version it was retrained from; must be registered. With a gate, the model the candidate is scored against. */
  parentVersion?: string | null;
  /** Why, in the words of whoever asked (a retraining job's reason). */
  reason?: string | null;
  /** What was asked for, as asked (a retraining job's parameters). */
  params?: Record<string, unknown>;
}

/**
 * The phases of a training run, in order; a retraining job's `phase` shows them (before `done`). The step loads,
 * trains, evaluates (the gate decides here) and saves; the workflow registers (with the gate's decision) and
 * promotes.
 */
export type TrainingPhase =
  'loading-data' | 'training' | 'evaluating' | 'saving' | 'registering' | 'promoting';

/**
 * One line of a training run, for a log, a job's progress or the CLI's stderr. A line that closes a network's epoch
 * carries its figures and where the network stands among the run's models.
 */
export interface TrainingProgress {
  phase: TrainingPhase;
  message: string;
  model?: string;
  /** 1-based position of `model` among the models the run trains, and how many there are. */
  modelIndex?: number;
  modelCount?: number;
  epoch?: number;
  loss?: number;
  valWeightedF1?: number;
}

export type TrainingProgressListener = (event: TrainingProgress) => void;

/**
 * What the train → evaluate → gate → save step is asked to do. Plain data: it crosses to a child process as it is.
 */
export interface ModelTrainingInput {
  /** A Rakuten-layout folder: products.csv (+ extra_text_only.csv, image_only.csv), or an X_/Y_ pair. */
  dataDir: string;
  /** The photos; default: dataDir/images. */
  imagesDir?: string;
  options: TrainOptions;
  /** Where the model directory is written (created if missing). */
  outDir: string;
  /**
   * Train on a seeded random sample of at most this many rows of each file of the training side: quick runs and
   * tests. The evaluation split stays whole, and labelled predictions are not sampled. Unset: all of it.
   */
  maxRows?: number;
  /**
   * Hold out the frozen evaluation split, train on the rest, score the candidate (and the production model, when
   * `productionDir` is given) on it and decide with these rules. Unset: train on every row, decide nothing.
   */
  gate?: { rules: PromotionGateOptions; productionDir?: string };
  /**
   * Labelled predictions to train on besides the data: a FeedbackFile in JSON. At most `recent` of the most recent
   * labels (never more than a fifth) are held out of training and scored for information.
   */
  feedback?: { file: string; recent: number };
  /** The artifact store where image features are cached by photo hash; unset: extracted afresh. */
  featureStore?: ArtifactStoreLocation;
  /** Recorded in the model card. */
  lineage?: TrainingLineage;
}

/** The gate's decision, with the recent labels' figures when there are any. */
export type GateDecision = PromotionDecision & { recentFeedback?: RecentFeedbackScores };

/** What the step wrote. */
export interface TrainedModel {
  /** The model directory, as `npm run train` writes it. */
  dir: string;
  /** The contents of its metrics.json. */
  metrics: Record<string, unknown>;
  /** The model's parts: text-neural-0, …, image. */
  components: string[];
  /** Recorded on the version: the data, the code, the durations, the evaluation split, the labels learned from. */
  lineage: Record<string, unknown>;
  /** The gate's decision, when the input asked for one. Stored on the version, so that a retry finds it. */
  gate?: GateDecision;
}

/** Where the step runs: in this process (the CLI), or in a child process (a retraining job, whose loop stays free). */
export type TrainingIsolation = { process: 'this' } | { process: 'child'; signal: AbortSignal };

export interface TrainingRequest extends Omit<
  ModelTrainingInput,
  'outDir' | 'lineage' | 'gate' | 'feedback'
> {
  lineage: TrainingLineage;
  /**
   * Score the candidate against the production model (the lineage's parent) on the frozen evaluation split and
   * promote it only if these rules say so. Unset: no gate.
   */
  gate?: PromotionGateOptions;
  /**
   * Labelled predictions to train on besides the data, read once training is to happen (not for a retry whose
   * version is registered), and written to the run's folder for the step. See ModelTrainingInput.feedback.
   */
  feedback?: { labels: () => Promise<FeedbackFile>; recent: number };
  /**
   * Where the model directory is written and kept (the CLI's --out). Without it, in the run's folder under the
   * workflow's work root, removed once the version is registered.
   */
  outDir?: string;
  /**
   * One version per key (a retraining job's): a run whose key is already registered skips training and returns
   * that version, going on to the gate's stored decision and promotion, so that a retried job never registers twice.
   */
  idempotencyKey?: string;
  /** Make the new version the production model (when there is a gate, only if it says so). */
  promote?: PromotionRequest;
  progress?: TrainingProgressListener;
  /** Default: this process. */
  isolation?: TrainingIsolation;
  /**
   * Called after training, before registering: throws to register nothing (a retraining job cancelled meanwhile).
   */
  beforeRegistering?: () => Promise<void>;
}

export interface TrainingOutcome {
  record: ModelVersionRecord;
  /** The contents of the version's metrics.json. */
  metrics: Record<string, unknown>;
  /** The model's parts: text-neural-0, …, image. */
  components: string[];
  /** The model directory, when the request asked to keep it (outDir). */
  modelDir?: string;
  /** The gate's decision, when a gate ran. */
  gate?: GateDecision;
  /** Set when the version was promoted by this run. */
  promotion?: PromotionResult;
  /** True when an earlier run with the same idempotency key had registered the version: nothing was trained. */
  reused: boolean;
}
