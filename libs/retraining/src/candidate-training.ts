import { readFileSync } from 'node:fs';
import {
  decidePromotion,
  DEFAULT_TEXT_ENSEMBLE_OPTIONS,
  DEFAULT_TRAIN_OPTIONS,
  designationKey,
  evaluateClassification,
  evaluateOnSplit,
  loadTrainingData,
  ProductClassifier,
  SeededRandom,
  splitForEvaluation,
  trainingDocuments,
  trainProductClassifier,
  validationMetrics,
  type EvaluationRows,
  type EvaluationSplitSummary,
  type ProductExample,
  type PromotionDecision,
  type PromotionGateOptions,
  type ScoredSplit,
  type TrainingData,
  type TrainOptions,
} from '@app/ml';
import { artifactStoreAt, type ArtifactStoreLocation } from '@app/storage';

export interface TrainingParams {
  seed?: number;
  neuralModels?: number;
  linearViews?: ('listing' | 'merged' | 'blocked')[];
  withImages?: boolean;
  /**
   * Train on a seeded random sample of at most this many rows of each file of the training side (products, extra
   * text, image-only): quick runs and tests. The evaluation split stays whole, and labelled predictions (feedback)
   * are not sampled: they are few, and the newest data. Unset: all of it.
   */
  maxRows?: number;
  /**
   * Internal (the HTTP route does not accept them): `demo` trains on the demo catalogue shipped with the code
   * instead of DATA_DIR (the first model of a fresh install); `onlyIfEmpty` skips the job when the registry already
   * has a version (two replicas asking for a first model at once get one).
   */
  dataset?: 'base' | 'demo';
  onlyIfEmpty?: boolean;
}

/** What the training process is asked to do: plain data, since it crosses a process boundary. */
export interface CandidateInput {
  dataDir: string;
  outDir: string;
  params: TrainingParams;
  /** The production model's directory, to score it on the same split; unset when there is none. */
  productionDir?: string;
  /** The artifact store where image features are cached by photo hash; unset: extracted afresh. */
  featureStore?: ArtifactStoreLocation;
  gate: PromotionGateOptions;
  /** Labelled predictions to train on besides the base set: a FeedbackFile in JSON. */
  feedbackFile?: string;
  /**
   * At most this many of the most recent labels (GATE_RECENT_FEEDBACK), and never more than a fifth of them, are
   * held out of training and scored for information; unset: 0, every label trains.
   */
  recentFeedback?: number;
}

/** One labelled prediction, as the runner exports it for the training process. */
export interface FeedbackRow {
  predictionId: string;
  /** ISO time of the label. */
  labelledAt: string;
  /** The true product type code. */
  prdtypecode: number;
  designation: string;
  description: string | null;
  /** The photo sent with the prediction, fetched from the store; absent when none was sent or it has expired. */
  imagePath?: string;
}

/** The runner's export of the labelled predictions, oldest label first. */
export interface FeedbackFile {
  rows: FeedbackRow[];
  /** Labels whose prediction row was not found: not in `rows`. */
  missingPredictions: number;
}

/** What a candidate learned from the labelled predictions: recorded in its lineage and model card. */
export interface FeedbackTrainingSummary {
  /** Labels trained on. */
  labels: number;
  /** The most recent labels, held out of training and scored for information (RecentFeedbackScores). */
  heldOut: number;
  /** Of `labels`, those with their photo (which the image model, when trained, learns from). */
  withImages: number;
  /** Labels whose prediction row was not found. */
  missingPredictions: number;
  /**
   * Labels left out of training because their title twins an evaluation row (as extra_text_only rows are): a
   * candidate trained on them would be scored on what it learned, and the frozen split would judge nothing.
   */
  withheldTwins: number;
  /** Labels with neither text nor a photo left (an image-only prediction whose photo expired): nothing to learn. */
  empty: number;
  /** The newest label trained on: later labels are new to this version. null when it trained on none. */
  watermark: { labelledAt: string; predictionId: string } | null;
}

export interface RecentFeedbackFigures {
  weighted_f1: number;
  macro_f1: number;
  accuracy: number;
}

/** Both models on the most recent labels, which the candidate did not train on. */
export interface RecentFeedbackScores {
  n: number;
  candidate: RecentFeedbackFigures;
  /** null when there is no production model. */
  production: RecentFeedbackFigures | null;
}

/** The gate's decision as the training process records it, with the recent labels' figures when there are any. */
export type CandidateDecision = PromotionDecision & { recentFeedback?: RecentFeedbackScores };

export interface TrainingProgress {
  phase: 'loading-data' | 'training' | 'saving' | 'evaluating';
  model?: string;
  /** 1-based position of `model` among the models this job trains, and how many there are. */
  modelIndex?: number;
  modelCount?: number;
  epoch?: number;
  valWeightedF1?: number;
}

export interface CandidateResult {
  outDir: string;
  /** The model's parts (text-neural-0, ..., image). */
  components: string[];
  dataFingerprint: string;
  metrics: Record<string, unknown>;
  backend: string;
  seconds: number;
  splitHash: string;
  split: EvaluationSplitSummary;
  decision: CandidateDecision;
  /** null when the job was given no labelled predictions. */
  feedback: FeedbackTrainingSummary | null;
}

export interface CandidateCallbacks {
  progress: (progress: TrainingProgress) => void;
  log: (line: string) => void;
}

/**
 * The demo catalogue's evaluation split is 66 listings of 27 codes: a sound training scores 0.45-0.55 there (chance
 * is 0.04), so the floor set for real data (GATE_FLOOR, 0.5) would keep a quick start's first model from being
 * served by the noise of a few listings. On the demo catalogue the floor is at most DEMO_GATE_FLOOR, which still
 * rejects a broken training.
 */
const DEMO_GATE_FLOOR = 0.3;

function gateFor(input: CandidateInput): PromotionGateOptions {
  if (input.params.dataset !== 'demo') return input.gate;
  return { ...input.gate, floor: Math.min(input.gate.floor, DEMO_GATE_FLOOR) };
}

export function trainOptions(params: TrainingParams): TrainOptions {
  return {
    ...DEFAULT_TRAIN_OPTIONS,
    seed: params.seed ?? DEFAULT_TRAIN_OPTIONS.seed,
    withImages: params.withImages ?? DEFAULT_TRAIN_OPTIONS.withImages,
    // The demo catalogue's photos are drawings, and the quick start's first model should come in seconds: the
    // hand-made features learn them as well as the backbone would, at a fraction of the cost (docs/image-model.md).
    imageFeatures: params.dataset === 'demo' ? 'handmade' : DEFAULT_TRAIN_OPTIONS.imageFeatures,
    // 16 listings per code leave too few to hold a calibration slice out (a few rows per class), and taking them
    // from training dropped the first model below the gate's floor: a demo model is served uncalibrated (every
    // answer goes to review) rather than not at all.
    calibrationFraction: params.dataset === 'demo' ? 0 : DEFAULT_TRAIN_OPTIONS.calibrationFraction,
    text: {
      neuralModels: params.neuralModels ?? DEFAULT_TEXT_ENSEMBLE_OPTIONS.neuralModels,
      linearViews: params.linearViews ?? DEFAULT_TEXT_ENSEMBLE_OPTIONS.linearViews,
    },
  };
}

/** At most `maxRows` rows of each file, drawn with the job's seed: the same job trains on the same rows. */
function sample(data: TrainingData, maxRows: number, seed: number): TrainingData {
  const random = new SeededRandom(seed);
  const take = <T>(rows: T[]) =>
    rows.length <= maxRows ? rows : random.shuffle([...rows]).slice(0, maxRows);
  return {
    ...data,
    products: take(data.products),
    extraText: take(data.extraText),
    imageOnly: take(data.imageOnly),
  };
}

/** The labelled predictions, split into what trains and the recent labels held out of training. */
interface FeedbackPartition {
  train: { products: ProductExample[]; imageOnly: ProductExample[] };
  recent: EvaluationRows;
  summary: FeedbackTrainingSummary;
}

/**
 * The most recent labels (min(recentMax, a fifth of them)) are held out; the others train, except those whose title
 * twins an evaluation row. A label whose prediction had no text trains the image model alone (image-only rows); one
 * with neither text nor a photo is skipped. None of them ever joins the evaluation split.
 */
function partitionFeedback(
  file: FeedbackFile,
  evaluation: EvaluationRows,
  recentMax: number,
): FeedbackPartition {
  const hasText = (row: FeedbackRow) =>
    row.designation.trim() !== '' || (row.description ?? '').trim() !== '';
  const usable = file.rows.filter((row) => hasText(row) || row.imagePath);
  const heldOut = Math.min(recentMax, Math.floor(usable.length / 5));
  const older = usable.slice(0, usable.length - heldOut);
  // Evaluation groups hold every row sharing a key, so the evaluation rows' titles are all the keys they own.
  const evaluationKeys = new Set(
    evaluation.products.map((row) => designationKey(row.designation)).filter((key) => key !== ''),
  );
  const trained = older.filter((row) => !evaluationKeys.has(designationKey(row.designation)));
  const example = (row: FeedbackRow): ProductExample => ({
    designation: row.designation,
    description: row.description ?? '',
    label: row.prdtypecode,
    ...(row.imagePath && { imagePath: row.imagePath }),
    origin: { file: `feedback (prediction ${row.predictionId})`, row: 1 },
  });
  const bySide = (rows: FeedbackRow[]) => ({
    products: rows.filter(hasText).map(example),
    imageOnly: rows.filter((row) => !hasText(row)).map(example),
  });
  const newest = trained.at(-1);
  return {
    train: bySide(trained),
    recent: bySide(usable.slice(usable.length - heldOut)),
    summary: {
      labels: trained.length,
      heldOut,
      withImages: trained.filter((row) => row.imagePath).length,
      missingPredictions: file.missingPredictions,
      withheldTwins: older.length - trained.length,
      empty: file.rows.length - usable.length,
      watermark: newest ? { labelledAt: newest.labelledAt, predictionId: newest.predictionId } : null,
    },
  };
}

function figures(scores: ScoredSplit): RecentFeedbackFigures {
  const report = evaluateClassification(scores.truth, scores.predicted, [...new Set(scores.truth)]);
  return { weighted_f1: report.weighted_f1, macro_f1: report.macro_f1, accuracy: report.accuracy };
}

/**
 * Adds both models' figures on the recent labels to the decision, for information. They are not a rule: the recent
 * labels are few, and skewed towards what is failing (people report wrong answers more than right ones, and an alert
 * asks for labels where the model is weak), so they show whether the candidate fixes what production gets wrong, while
 * the frozen split, large and drawn like the catalogue, judges.
 */
function withRecentFeedback(decision: PromotionDecision, recent: RecentFeedbackScores): CandidateDecision {
  const f4 = (value: number) => value.toFixed(4);
  const line =
    `recent feedback (for information; the frozen split decides): on the ${recent.n} most recent labels, not ` +
    `trained on, candidate weighted F1 ${f4(recent.candidate.weighted_f1)}` +
    (recent.production ? ` vs production ${f4(recent.production.weighted_f1)}` : ', no production model');
  // The decision stays the last line.
  const reasons = [...decision.reasons.slice(0, -1), line, ...decision.reasons.slice(-1)];
  return { ...decision, reasons, recentFeedback: recent };
}

/**
 * Runs in the training process: load the base set, hold out the frozen evaluation split, train on the rest and on
 * the labelled predictions but their most recent ones, save the model directory, then score the candidate and the
 * production model on the split (and, for information, on the recent labels) and decide.
 */
export async function trainCandidate(
  input: CandidateInput,
  callbacks: CandidateCallbacks,
): Promise<CandidateResult> {
  const started = Date.now();
  callbacks.progress({ phase: 'loading-data' });
  const { data } = loadTrainingData(input.dataDir);
  const split = splitForEvaluation(data);
  callbacks.log(
    `evaluation split ${split.splitHash.slice(0, 19)}…: ${split.summary.evaluation.products} products and ` +
      `${split.summary.evaluation.imageOnly} image-only rows held out`,
  );
  const { maxRows, seed } = input.params;
  const base = maxRows === undefined ? split.train : sample(split.train, maxRows, seed ?? 0);
  const feedback = input.feedbackFile
    ? partitionFeedback(
        JSON.parse(readFileSync(input.feedbackFile, 'utf8')) as FeedbackFile,
        split.evaluation,
        input.recentFeedback ?? 0,
      )
    : null;
  const training: TrainingData = feedback
    ? {
        ...base,
        products: [...base.products, ...feedback.train.products],
        imageOnly: [...base.imageOnly, ...feedback.train.imageOnly],
      }
    : base;
  if (feedback) {
    const f = feedback.summary;
    callbacks.log(
      `feedback: training on ${f.labels} labelled predictions (${f.withImages} with their photo), ` +
        `${f.heldOut} most recent held out for the gate, ${f.withheldTwins} twins of evaluation rows and ` +
        `${f.empty} without text or photo left out; labels without their prediction: ${f.missingPredictions}`,
    );
  }

  const options = trainOptions(input.params);
  const text = options.text!;
  const models = [
    ...Array.from({ length: text.neuralModels! }, (_, i) => `text-neural-${i}`),
    ...text.linearViews!.map((_, i) => `text-linear-${i}`),
    ...(options.withImages ? ['image'] : []),
  ];
  callbacks.progress({ phase: 'training', modelCount: models.length });
  const featureStore = input.featureStore && artifactStoreAt(input.featureStore);
  const trained = await trainProductClassifier(
    training,
    options,
    callbacks.log,
    undefined,
    (model, p, line) => {
      const index = models.indexOf(model);
      // The job's log shows each epoch as the CLI's does, with where the model stands among the job's models.
      callbacks.log(index >= 0 ? `model ${index + 1}/${models.length}, ${line}` : line);
      callbacks.progress({
        phase: 'training',
        model,
        ...(index >= 0 && { modelIndex: index + 1 }),
        modelCount: models.length,
        epoch: p.epoch,
        valWeightedF1: p.valWeightedF1,
      });
    },
    { featureStore },
  );
  const { classifier, card } = trained;
  const metrics = validationMetrics(card);

  callbacks.progress({ phase: 'evaluating' });
  const scoring = { splitHash: split.splitHash, log: callbacks.log, featureStore };
  const production = input.productionDir ? await ProductClassifier.load(input.productionDir) : null;
  let decision: CandidateDecision;
  try {
    const candidateScores = await evaluateOnSplit(classifier, split.evaluation, scoring);
    const productionScores = production ? await evaluateOnSplit(production, split.evaluation, scoring) : null;
    decision = decidePromotion(candidateScores, productionScores, gateFor(input));
    if (feedback && feedback.summary.heldOut > 0) {
      const score = async (model: ProductClassifier) =>
        figures(await evaluateOnSplit(model, feedback.recent, { log: callbacks.log, featureStore }));
      decision = withRecentFeedback(decision, {
        n: feedback.summary.heldOut,
        candidate: await score(classifier),
        production: production ? await score(production) : null,
      });
    }
  } finally {
    production?.dispose();
  }
  callbacks.progress({ phase: 'saving' });
  const manifest = await classifier.save(input.outDir, {
    metrics: {
      ...metrics,
      evaluation_split: { splitHash: split.splitHash, weighted_f1: decision.candidate.weighted_f1 },
    },
    'model-card': {
      ...card,
      dataDir: input.dataDir,
      evaluationSplit: { splitHash: split.splitHash, ...split.summary },
      ...(feedback && { feedback: feedback.summary }),
    },
    ...trainingDocuments(trained),
  });
  classifier.dispose();
  return {
    outDir: input.outDir,
    components: Object.keys(manifest.components),
    dataFingerprint: card.dataFingerprint,
    metrics,
    backend: card.backend,
    seconds: (Date.now() - started) / 1000,
    splitHash: split.splitHash,
    split: split.summary,
    decision,
    feedback: feedback?.summary ?? null,
  };
}
