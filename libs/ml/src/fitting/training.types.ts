import type { ProductExample } from '../data/product.types';

export type Log = (line: string) => void;

/** What a model learns from: the labelled rows of a Rakuten-layout folder. */
export interface TrainingData {
  products: ProductExample[];
  /** Text rows without ids, used for training only, never for evaluation. */
  extraText: ProductExample[];
  imageOnly: ProductExample[];
  categoryNames: Record<number, string>;
}

/** Image features computed once, keyed by absolute path (see extractDatasetFeatures). */
export interface ImageCache {
  /** The featureSourceKey of the source they come from: only an image model on that source can read them. */
  source: string;
  features: Map<string, Float32Array>;
  unreadable: string[];
}
