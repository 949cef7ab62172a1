import type { ProductExample } from '../data/product.types';
import { stratifiedKFold } from '../evaluation/stratified-k-fold.util';
import { evaluateClassifier, type ModelEvaluation } from './model.evaluator';
import { trainProductClassifier, type TrainOptions } from './product-classifier.trainer';
import type { ImageCache, Log, TrainingData } from './training.types';

type Headline = { n: number; weighted_f1: number; macro_f1: number; accuracy: number };

export interface CrossValidationResult {
  protocol: { k: number; seed: number; description: string };
  folds: {
    fold: number;
    seconds: number;
    products: Headline;
    products_text_only: Headline;
    image_only?: Headline;
  }[];
  mean: { products: Headline; products_text_only: Headline; image_only?: Headline };
  std: { products: Headline; products_text_only: Headline; image_only?: Headline };
}

/**
 * Stratified K-fold over the labelled products, with extra_text_only rows added to every training fold and never
 * evaluated; image_only rows are folded the same way so the image model is always scored on unseen photos.
 */
export async function crossValidate(
  data: TrainingData,
  k: number,
  options: TrainOptions,
  images: ImageCache,
  log: Log,
  /** The folds to run (0-based), all by default: several processes can share one protocol's folds. */
  only?: number[],
): Promise<CrossValidationResult> {
  const productFolds = stratifiedKFold(
    data.products.map((e) => e.label!),
    k,
    options.seed,
  );
  const imageFolds =
    data.imageOnly.length >= k
      ? stratifiedKFold(
          data.imageOnly.map((e) => e.label!),
          k,
          options.seed,
        )
      : [];
  const folds: CrossValidationResult['folds'] = [];
  for (let fold = 0; fold < k; fold++) {
    if (only && !only.includes(fold)) continue;
    const started = Date.now();
    log(`--- fold ${fold + 1}/${k}`);
    const pick = (rows: ProductExample[], idx: number[] | undefined) => (idx ?? []).map((i) => rows[i]);
    const trainData: TrainingData = {
      products: pick(data.products, productFolds[fold].train),
      extraText: data.extraText,
      imageOnly: pick(data.imageOnly, imageFolds[fold]?.train),
      categoryNames: data.categoryNames,
    };
    const { classifier } = await trainProductClassifier(trainData, options, log, images);
    const evaluation = await evaluateClassifier(
      classifier,
      {
        products: pick(data.products, productFolds[fold].test),
        imageOnly: pick(data.imageOnly, imageFolds[fold]?.test),
      },
      images,
    );
    classifier.dispose();
    const result = { fold, seconds: (Date.now() - started) / 1000, ...headlines(evaluation) };
    log(
      `fold ${fold + 1}: products weighted F1 ${result.products.weighted_f1.toFixed(4)}, text only ${result.products_text_only.weighted_f1.toFixed(4)}` +
        (result.image_only ? `, image only ${result.image_only.weighted_f1.toFixed(4)}` : ''),
    );
    folds.push(result);
  }
  return {
    protocol: {
      k,
      seed: options.seed,
      description: `stratified ${k}-fold over products; extra_text_only added to every training fold; image_only folded alike`,
    },
    folds,
    mean: summarise(folds, mean),
    std: summarise(folds, std),
  };
}

function headline(report: Headline): Headline {
  return {
    n: report.n,
    weighted_f1: report.weighted_f1,
    macro_f1: report.macro_f1,
    accuracy: report.accuracy,
  };
}

function headlines(evaluation: ModelEvaluation) {
  return {
    products: headline(evaluation.products),
    products_text_only: headline(evaluation.products_text_only),
    ...(evaluation.image_only ? { image_only: headline(evaluation.image_only) } : {}),
  };
}

function summarise(folds: CrossValidationResult['folds'], reduce: (values: number[]) => number) {
  const over = (
    pick: (f: CrossValidationResult['folds'][number]) => Headline | undefined,
  ): Headline | undefined => {
    const reports = folds.map(pick).filter((r): r is Headline => r !== undefined);
    if (reports.length === 0) return undefined;
    return {
      n: reports.reduce((s, r) => s + r.n, 0),
      weighted_f1: reduce(reports.map((r) => r.weighted_f1)),
      macro_f1: reduce(reports.map((r) => r.macro_f1)),
      accuracy: reduce(reports.map((r) => r.accuracy)),
    };
  };
  const imageOnly = over((f) => f.image_only);
  return {
    products: over((f) => f.products)!,
    products_text_only: over((f) => f.products_text_only)!,
    ...(imageOnly ? { image_only: imageOnly } : {}),
  };
}

function mean(values: number[]): number {
  return values.reduce((s, v) => s + v, 0) / values.length;
}

function std(values: number[]): number {
  const m = mean(values);
  return Math.sqrt(values.reduce((s, v) => s + (v - m) ** 2, 0) / values.length);
}
