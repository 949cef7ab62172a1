import type { ProductExample } from '../data/product.types';
import type { EvaluationRows } from '../evaluation/evaluation-split.util';
import type { DecodedItem, ProductClassifier } from '../model/product.classifier';
import { InThreadBackboneRunner } from '../image/backbone.runner';
import { extractDatasetFeatures, type ImageFeatureStore } from '../fitting/dataset-images.loader';
import { predictLabels } from '../fitting/model.evaluator';
import type { ImageCache, Log } from '../fitting/training.types';

/** The "label" of a row the model could not score: it matches no true label, so the row counts as wrong. */
export const NO_PREDICTION = -1;

/** One model's answers on the evaluation rows, in row order: what the promotion gate compares. */
export interface ScoredSplit {
  truth: number[];
  predicted: number[];
  /** The split the rows come from, when known (EvaluationSplit.splitHash). */
  splitHash?: string;
}

export interface SplitScores extends ScoredSplit {
  rows: {
    products: number;
    imageOnly: number;
    /** Rows scored with their photo (text fused with it, or the photo alone). */
    withImage: number;
    /** Rows the model could not score: image-only rows without an image model, or with an unreadable photo. */
    unscored: number;
  };
}

export interface EvaluateOnSplitOptions {
  splitHash?: string;
  /** Features already computed (e.g. for the other model); computed here when missing or from another source. */
  images?: ImageCache;
  /** Features cached by photo hash, read before extracting and written after. */
  featureStore?: ImageFeatureStore;
  log?: Log;
}

/**
 * Scores a loaded classifier on the evaluation rows as the service would answer them: products by their text fused
 * with the photo where there is one, image-only rows by the photo alone. Rows come out products first, then image-only
 * rows, each in the given order, so two models scored on the same rows are paired row by row.
 */
export async function evaluateOnSplit(
  classifier: ProductClassifier,
  evaluation: EvaluationRows,
  options: EvaluateOnSplitOptions = {},
): Promise<SplitScores> {
  const rows = [...evaluation.products, ...evaluation.imageOnly].filter((e) => e.label !== undefined);
  const images = await imagesFor(classifier, rows, options);
  const featuresOf = (e: ProductExample) => (e.imagePath ? images?.features.get(e.imagePath) : undefined);
  const isProduct = new Set(evaluation.products);
  const items: (DecodedItem | undefined)[] = rows.map((e) => {
    const imageFeatures = featuresOf(e);
    if (isProduct.has(e))
      return { text: { designation: e.designation, description: e.description }, imageFeatures };
    return imageFeatures ? { imageFeatures } : undefined;
  });

  const scorable = items.filter((item): item is DecodedItem => item !== undefined);
  const labels = await predictLabels(classifier, scorable);
  let next = 0;
  const predicted = items.map((item) => (item ? labels[next++] : NO_PREDICTION));
  return {
    truth: rows.map((e) => e.label!),
    predicted,
    ...(options.splitHash ? { splitHash: options.splitHash } : {}),
    rows: {
      products: rows.filter((e) => isProduct.has(e)).length,
      imageOnly: rows.filter((e) => !isProduct.has(e)).length,
      withImage: items.filter((item) => item?.imageFeatures).length,
      unscored: items.length - scorable.length,
    },
  };
}

async function imagesFor(
  classifier: ProductClassifier,
  rows: ProductExample[],
  options: EvaluateOnSplitOptions,
): Promise<ImageCache | undefined> {
  const source = classifier.imageSource;
  if (source === undefined) return undefined;
  if (options.images?.source === classifier.imageFeatureSource) return options.images;
  const backbones = new InThreadBackboneRunner();
  try {
    return await extractDatasetFeatures(rows, source, options.log ?? (() => undefined), {
      backbones,
      store: options.featureStore,
    });
  } finally {
    backbones.dispose();
  }
}
