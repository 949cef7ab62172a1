import { readFileSync } from 'node:fs';
import {
  decidePromotion,
  evaluateOnSplit,
  loadTrainingData,
  ProductClassifier,
  SeededRandom,
  splitForEvaluation,
  trainingDocuments,
  trainProductClassifier,
  validationMetrics,
  type EvaluateOnSplitOptions,
  type EvaluationSplit,
  type TrainingData,
} from '@app/ml';
import { artifactStoreAt } from '@app/storage';
import { codeVersion } from './code-version.util';
import {
  partitionFeedback,
  recentFigures,
  withRecentFeedback,
  type FeedbackFile,
  type FeedbackPartition,
} from './training-feedback.util';
import type {
  GateDecision,
  ModelTrainingInput,
  TrainedModel,
  TrainingLineage,
  TrainingPhase,
  TrainingProgressListener,
} from './training.types';

/**
 * The one train → evaluate → gate → save step: load the data, hold out the frozen evaluation split when a gate is
 * asked for, train on the rest and on the labelled predictions but their most recent ones, score the candidate and
 * the production model on the split (and, for information, on the recent labels), decide, and write the model
 * directory. The CLI runs it in its own process; a retraining job in a child process (training.child.ts).
 */
export async function trainModel(
  input: ModelTrainingInput,
  progress: TrainingProgressListener = () => undefined,
): Promise<TrainedModel> {
  const started = Date.now();
  let phase: TrainingPhase = 'loading-data';
  const log = (message: string) => progress({ phase, message });

  log(`loading ${input.dataDir}`);
  const { data, report, layout } = loadTrainingData(input.dataDir, input.imagesDir);
  log(`loaded ${layout} layout from ${input.dataDir}: ${JSON.stringify(report.files)}`);
  log(
    `images: ${report.images.found} found, ${report.images.missing} missing of ${report.images.referenced} referenced`,
  );
  const split = input.gate ? splitForEvaluation(data) : null;
  if (split) {
    log(
      `evaluation split ${split.splitHash.slice(0, 19)}…: ${split.summary.evaluation.products} products and ` +
        `${split.summary.evaluation.imageOnly} image-only rows held out`,
    );
  }
  const rows = split?.train ?? data;
  const base = input.maxRows === undefined ? rows : sample(rows, input.maxRows, input.options.seed);
  const feedback = input.feedback
    ? partitionFeedback(
        JSON.parse(readFileSync(input.feedback.file, 'utf8')) as FeedbackFile,
        split?.evaluation ?? { products: [], imageOnly: [] },
        input.feedback.recent,
      )
    : null;
  if (feedback) {
    const f = feedback.summary;
    log(
      `feedback: training on ${f.labels} labelled predictions (${f.withImages} with their photo), ` +
        `${f.heldOut} most recent held out for the gate, ${f.withheldTwins} twins of evaluation rows and ` +
        `${f.empty} without text or photo left out; labels without their prediction: ${f.missingPredictions}`,
    );
  }
  const training: TrainingData = feedback
    ? {
        ...base,
        products: [...base.products, ...feedback.train.products],
        imageOnly: [...base.imageOnly, ...feedback.train.imageOnly],
      }
    : base;

  phase = 'training';
  const { options } = input;
  const text = options.text!;
  const models = [
    ...Array.from({ length: text.neuralModels! }, (_, i) => `text-neural-${i}`),
    ...text.linearViews!.map((_, i) => `text-linear-${i}`),
    ...(options.withImages ? ['image'] : []),
  ];
  progress({ phase, message: `training ${models.join(', ')}`, modelCount: models.length });
  const featureStore = input.featureStore && artifactStoreAt(input.featureStore);
  const trained = await trainProductClassifier(
    training,
    options,
    log,
    undefined,
    (model, epoch, line) => {
      const index = models.indexOf(model);
      progress({
        phase,
        // Each epoch as a line, with where the network stands among the run's models.
        message: index >= 0 ? `model ${index + 1}/${models.length}, ${line}` : line,
        model,
        ...(index >= 0 && { modelIndex: index + 1 }),
        modelCount: models.length,
        epoch: epoch.epoch,
        loss: epoch.loss,
        valWeightedF1: epoch.valWeightedF1,
      });
    },
    { featureStore },
  );
  const { classifier, card } = trained;
  try {
    let gate: GateDecision | undefined;
    if (split && input.gate) {
      phase = 'evaluating';
      log(
        `scoring the candidate${input.gate.productionDir ? ' and production' : ''} on the evaluation split`,
      );
      gate = await decide(classifier, split, feedback, input.gate, { log, featureStore });
    }
    phase = 'saving';
    const metrics = {
      ...validationMetrics(card),
      ...(split &&
        gate && {
          evaluation_split: { splitHash: split.splitHash, weighted_f1: gate.candidate.weighted_f1 },
        }),
    };
    const manifest = await classifier.save(input.outDir, {
      metrics,
      'model-card': {
        ...card,
        dataDir: input.dataDir,
        layout,
        dataReport: report,
        ...(split && { evaluationSplit: { splitHash: split.splitHash, ...split.summary } }),
        ...(feedback && { feedback: feedback.summary }),
        ...(input.lineage && { lineage: lineageCard(input.lineage) }),
      },
      ...trainingDocuments(trained),
    });
    const components = Object.keys(manifest.components);
    log(`model written to ${input.outDir} (${components.join(' + ')})`);
    return {
      dir: input.outDir,
      metrics,
      components,
      lineage: {
        dataDir: input.dataDir,
        dataFingerprint: card.dataFingerprint,
        parameters: card.parameters,
        backend: card.backend,
        code: codeVersion(),
        trainingSeconds: (Date.now() - started) / 1000,
        ...(split && { evaluationSplit: split.splitHash }),
        // What it learned from the labelled predictions, up to which label (the watermark).
        ...(feedback && { feedback: feedback.summary }),
      },
      ...(gate && { gate }),
    };
  } finally {
    classifier.dispose();
  }
}

/** The gate: the candidate and the production model on the frozen split, and on the recent labels for information. */
async function decide(
  candidate: ProductClassifier,
  split: EvaluationSplit,
  feedback: FeedbackPartition | null,
  gate: NonNullable<ModelTrainingInput['gate']>,
  scoring: Omit<EvaluateOnSplitOptions, 'splitHash'>,
): Promise<GateDecision> {
  const production = gate.productionDir ? await ProductClassifier.load(gate.productionDir) : null;
  try {
    const onSplit = { ...scoring, splitHash: split.splitHash };
    const candidateScores = await evaluateOnSplit(candidate, split.evaluation, onSplit);
    const productionScores = production ? await evaluateOnSplit(production, split.evaluation, onSplit) : null;
    const decision = decidePromotion(candidateScores, productionScores, gate.rules);
    if (!feedback || feedback.summary.heldOut === 0) return decision;
    const score = async (model: ProductClassifier) =>
      recentFigures(await evaluateOnSplit(model, feedback.recent, scoring));
    return withRecentFeedback(decision, {
      n: feedback.summary.heldOut,
      candidate: await score(candidate),
      production: production ? await score(production) : null,
    });
  } finally {
    production?.dispose();
  }
}

/** At most `maxRows` rows of each file, drawn with the run's seed: the same request trains on the same rows. */
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

function lineageCard(lineage: TrainingLineage): Record<string, unknown> {
  return {
    trigger: lineage.trigger,
    source: lineage.source,
    createdBy: lineage.createdBy,
    jobId: lineage.jobId ?? null,
    parentVersion: lineage.parentVersion ?? null,
  };
}
