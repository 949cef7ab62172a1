import type { ProductExample } from '../data/product.types';
import type { EvaluationRows } from '../evaluation/evaluation-split';
import type { DecodedItem, ProductClassifier } from '../model/product.classifier';
import { decodeDatasetImages } from '../training/dataset-images';
import { predictLabels } from '../training/model.evaluator';
import type { ImageCache, Log } from '../training/training.types';

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
  /** Photos already decoded (e.g. for the other model); decoded here when missing or of another size. */
  images?: ImageCache;
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
  const pixelsOf = (e: ProductExample) => (e.imagePath ? images?.pixels.get(e.imagePath) : undefined);
  const isProduct = new Set(evaluation.products);
  const items: (DecodedItem | undefined)[] = rows.map((e) => {
    const pixels = pixelsOf(e);
    if (isProduct.has(e)) return { text: { designation: e.designation, description: e.description }, pixels };
    return pixels ? { pixels } : undefined;
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
      withImage: items.filter((item) => item?.pixels).length,
      unscored: items.length - scorable.length,
    },
  };
}

async function imagesFor(
  classifier: ProductClassifier,
  rows: ProductExample[],
  options: EvaluateOnSplitOptions,
): Promise<ImageCache | undefined> {
  const size = classifier.imageSize;
  if (size === undefined) return undefined;
  if (options.images?.size === size) return options.images;
  return decodeDatasetImages(rows, size, options.log ?? (() => undefined));
}
