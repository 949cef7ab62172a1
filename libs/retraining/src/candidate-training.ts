import {
  DEFAULT_TEXT_ENSEMBLE_OPTIONS,
  DEFAULT_TRAIN_OPTIONS,
  loadTrainingData,
  SeededRandom,
  trainProductClassifier,
  validationMetrics,
  type TrainingData,
  type TrainOptions,
} from '@app/ml';

export interface TrainingParams {
  seed?: number;
  neuralModels?: number;
  linearViews?: ('merged' | 'blocked')[];
  withImages?: boolean;
  /**
   * Train on a seeded random sample of at most this many rows of each file of the base set (products, extra text,
   * image-only): quick runs and tests. Unset: all of it.
   */
  maxRows?: number;
}

/** What the training process is asked to do: plain data, since it crosses a process boundary. */
export interface CandidateInput {
  dataDir: string;
  outDir: string;
  params: TrainingParams;
}

export interface TrainingProgress {
  phase: 'loading-data' | 'training' | 'saving';
  model?: string;
  /** 1-based position of `model` among the models this job trains, and how many there are. */
  modelIndex?: number;
  modelCount?: number;
  epoch?: number;
  valWeightedF1?: number;
}

export interface CandidateResult {
  outDir: string;
  dataFingerprint: string;
  metrics: Record<string, unknown>;
  backend: string;
  seconds: number;
}

export interface CandidateCallbacks {
  progress: (progress: TrainingProgress) => void;
  log: (line: string) => void;
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

/** Runs in the training process: load, train, save the model directory. */
export async function trainCandidate(
  input: CandidateInput,
  callbacks: CandidateCallbacks,
): Promise<CandidateResult> {
  const started = Date.now();
  callbacks.progress({ phase: 'loading-data' });
  const { data: base } = loadTrainingData(input.dataDir);
  const data =
    input.params.maxRows === undefined ? base : sample(base, input.params.maxRows, input.params.seed ?? 0);
  const options = trainOptions(input.params);
  const text = options.text!;
  const models = [
    ...Array.from({ length: text.neuralModels! }, (_, i) => `text-neural-${i}`),
    ...text.linearViews!.map((_, i) => `text-linear-${i}`),
    ...(options.withImages ? ['image'] : []),
  ];
  callbacks.progress({ phase: 'training', modelCount: models.length });
  const { classifier, card } = await trainProductClassifier(
    data,
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
  callbacks.progress({ phase: 'saving' });
  const metrics = validationMetrics(card);
  await classifier.save(input.outDir, { metrics, 'model-card': { ...card, dataDir: input.dataDir } });
  classifier.dispose();
  return {
    outDir: input.outDir,
    dataFingerprint: card.dataFingerprint,
    metrics,
    backend: card.backend,
    seconds: (Date.now() - started) / 1000,
  };
}
