import { HashedTerms } from './text-hashing.util';
import { SparseRowBuffer, type ProductText, type TextFeatureExtractor } from './text-features.extractor';

/** A text model that scores one row of its own features. */
export interface RowScorer {
  readonly features: TextFeatureExtractor;
  readonly numClasses: number;
  scoreRow(rows: SparseRowBuffer, from: number, to: number, out: Float32Array, offset: number): void;
}

/**
 * Class probabilities (row-major, texts × classes) of a model used on its own: each text hashed, weighed and
 * scored through one reused row. (The ensemble shares the hashing between its models instead.)
 */
export function scoreTexts(model: RowScorer, texts: ProductText[]): Float32Array {
  const out = new Float32Array(texts.length * model.numClasses);
  const terms = new HashedTerms();
  const row = new SparseRowBuffer();
  texts.forEach((text, n) => {
    model.features.weigh(model.features.hasher.hash(text, terms), row);
    model.scoreRow(row, 0, row.length, out, n * model.numClasses);
  });
  return out;
}
