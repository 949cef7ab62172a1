import {
  decidePromotion,
  DEFAULT_TEXT_ENSEMBLE_OPTIONS,
  DEFAULT_TRAIN_OPTIONS,
  evaluateOnSplit,
  loadTrainingData,
  ProductClassifier,
  SeededRandom,
  splitForEvaluation,
  trainProductClassifier,
  validationMetrics,
  type EvaluationSplitSummary,
  type PromotionDecision,
  type PromotionGateOptions,
  type TrainingData,
  type TrainOptions,
} from '@app/ml';

export interface TrainingParams {
  seed?: number;
  neuralModels?: number;
  linearViews?: ('merged' | 'blocked')[];
  withImages?: boolean;
  /**
   * Train on a seeded random sample of at most this many rows of each file of the training side (products, extra
   * text, image-only): quick runs and tests. The evaluation split stays whole. Unset: all of it.
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
  gate: PromotionGateOptions;
}

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
  decision: PromotionDecision;
}

export interface CandidateCallbacks {
  progress: (progress: TrainingProgress) => void;
  log: (line: string) => void;
}

export function trainOptions(params: TrainingParams): TrainOptions {
  return {
    ...DEFAULT_TRAIN_OPTIONS,
    seed: params.seed ?? DEFAULT_TRAIN_OPTIONS.seed,
    withImages: params.withImages ?? DEFAULT_TRAIN_OPTIONS.withImages,
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

/**
 * Runs in the training process: load the base set, hold out the frozen evaluation split, train on the rest, save
 * the model directory, then score the candidate and the production model on the split and decide.
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
  const training = maxRows === undefined ? split.train : sample(split.train, maxRows, seed ?? 0);

  const options = trainOptions(input.params);
  const text = options.text!;
  const models = [
    ...Array.from({ length: text.neuralModels! }, (_, i) => `text-neural-${i}`),
    ...text.linearViews!.map((_, i) => `text-linear-${i}`),
    ...(options.withImages ? ['image'] : []),
  ];
  callbacks.progress({ phase: 'training', modelCount: models.length });
  const { classifier, card } = await trainProductClassifier(
    training,
    options,
    callbacks.log,
    undefined,
    (model, p) => {
      const index = models.indexOf(model);
      callbacks.progress({
        phase: 'training',
        model,
        ...(index >= 0 && { modelIndex: index + 1 }),
        modelCount: models.length,
        epoch: p.epoch,
        valWeightedF1: p.valWeightedF1,
      });
    },
  );
  const metrics = validationMetrics(card);

  callbacks.progress({ phase: 'evaluating' });
  const scoring = { splitHash: split.splitHash, log: callbacks.log };
  const candidateScores = await evaluateOnSplit(classifier, split.evaluation, scoring);
  let productionScores = null;
  if (input.productionDir) {
    const production = await ProductClassifier.load(input.productionDir);
    productionScores = await evaluateOnSplit(production, split.evaluation, scoring);
    production.dispose();
  }
  const decision = decidePromotion(candidateScores, productionScores, input.gate);
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
    },
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
  };
}
