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

/** Images decoded once to the image model's input size, keyed by absolute path. */
export interface ImageCache {
  size: number;
  pixels: Map<string, Uint8Array>;
  unreadable: string[];
}
