import { requireFile, toBytes } from '../runtime/binary-files.util';
import { SeededRandom } from '../runtime/random.util';
import type { SlicedWork } from '../runtime/sliced-work.util';
import { FeatureRowTable } from './feature-row.table';
import { QuantizedRows, softmaxInto } from './sparse-rows.util';
import { scoreTexts } from './score-texts.util';
import {
  SparseRowBuffer,
  TextFeatureExtractor,
  type ProductText,
  type SparseRow,
  type TextFeatureOptions,
  type TextFeatureParams,
} from './text-features.extractor';

export interface LinearSvmOptions {
  seed: number;
  /** Inverse regularisation strength, as in LinearSVC. */
  c: number;
  /** Most passes over the data per class; stops earlier once the dual problem has converged. */
  maxPasses: number;
  /** Largest projected gradient accepted as converged (liblinear's default is 0.1). */
  tolerance: number;
  /**
   * Value of the constant feature that carries each class's intercept (liblinear's -B; 0: no intercept). Regularised
   * like the other weights, as in LinearSVC.
   */
  bias: number;
  /** Scale of the margins before the softmax that turns them into probabilities; set by cross-validation. */
  temperature: number;
  features: Partial<TextFeatureOptions>;
}

/**
 * Views of a listing for the linear models. Models on different views err on different listings, so their
 * combination beats each of them (5-fold CV, docs/benchmarks.md):
 * - listing: the scikit-learn peer's recipe (bench/sklearn-peer.py): the title's words and character 2-5-grams, then
 *   the whole listing's (title again and description), four blocks normalised on their own at equal weight;
 * - merged: one namespace and one norm for title and description, character 2-5-grams over much of the description;
 * - blocked: the neural model's view, title and description in separately normalised, weighted blocks.
 */
export const LINEAR_VIEWS: Record<'listing' | 'merged' | 'blocked', Partial<TextFeatureOptions>> = {
  listing: {
    minDf: 2,
    titleWordMinDf: 1,
    keepPunctuation: true,
    charMin: 2,
    charMax: 5,
    maxDigits: 2,
    // The whole description (the longest in the shared data has 9,877 characters): cut at 2,000 and 1,000 as the
    // other views are, 5-fold CV gave 0.7863 against 0.7882.
    descriptionMaxChars: 10_000,
    descriptionCharChars: 10_000,
    titleInDescription: true,
    weights: { titleWord: 1, titleChar: 1, descriptionWord: 1, descriptionChar: 1 },
  },
  merged: {
    minDf: 1,
    mergedFields: true,
    charMin: 2,
    charMax: 5,
    maxDigits: 20,
    descriptionMaxChars: 2000,
    descriptionCharChars: 1000,
  },
  blocked: { minDf: 1 },
};

/**
 * C of each view's SVM in an ensemble. The listing view's four blocks of unit norm fit with less room (fold 1 of
 * the CV: weighted F1 0.7783 at 0.5, 0.7721 at 1; the scikit-learn peer uses 0.5 on the same blocks too).
 */
export const LINEAR_VIEW_C: Record<keyof typeof LINEAR_VIEWS, number> = {
  listing: 0.5,
  merged: 1,
  blocked: 1,
};

export const DEFAULT_LINEAR_SVM_OPTIONS: LinearSvmOptions = {
  seed: 0,
  c: 1,
  maxPasses: 30,
  tolerance: 0.1,
  bias: 1,
  temperature: 5,
  features: LINEAR_VIEWS.merged,
};

/**
 * Weights quantized, weights.q8 ([features × classes], see QuantizedRows and FeatureRowTable); the intercepts
 * (bias × the constant feature's weights) in float32, intercepts.f32.
 */
const FORMAT = 'linear-svm/4';
/** The format before intercepts: still read (its models have none), so that a registry's older versions load. */
const FORMAT_WITHOUT_INTERCEPTS = 'linear-svm/3';
const WEIGHTS_FILE = 'weights.q8';
const INTERCEPTS_FILE = 'intercepts.f32';

/**
 * One-vs-rest linear SVM (L2-regularised squared hinge loss) trained by dual coordinate descent, the solver behind
 * scikit-learn's LinearSVC. It is sparse end to end, so it stays in TypeScript: TensorFlow.js has no sparse kernels
 * here and a dense input would be hundreds of thousands of columns wide. Its weights are a FeatureRowTable, feature
 * by feature (one contiguous run of class weights per feature of a listing); the margins, scaled, go through a
 * softmax.
 */
export class LinearSvmClassifier {
  private readonly margins: Float64Array;

  private constructor(
    private readonly table: FeatureRowTable,
    private readonly intercepts: Float32Array,
    private readonly options: LinearSvmOptions,
    readonly numClasses: number,
  ) {
    this.margins = new Float64Array(numClasses);
  }

  /** The model's features; models whose features share a hasher can share a text's hashing. */
  get features(): TextFeatureExtractor {
    return this.table.features;
  }

  static train(
    texts: ProductText[],
    labels: number[],
    numClasses: number,
    options: Partial<LinearSvmOptions> & { seed: number },
  ): LinearSvmClassifier {
    if (texts.length !== labels.length) throw new Error(`${texts.length} texts but ${labels.length} labels`);
    // A view is a whole feature configuration: it replaces the default view rather than patching it.
    const o: LinearSvmOptions = { ...DEFAULT_LINEAR_SVM_OPTIONS, ...options };
    const extractor = TextFeatureExtractor.fit(texts, o.features);
    const rows = extractor.transform(texts);
    const numFeatures = extractor.numFeatures;
    // The solver works one class at a time, so it keeps each class's weights contiguous; transposed at the end.
    const byClass = new Float32Array(numClasses * numFeatures);
    const rng = new SeededRandom(o.seed);
    const diagonal = 1 / (2 * o.c);
    const bias = o.bias;
    const squaredNorms = rows.map(
      (row) => row.values.reduce((sum, v) => sum + v * v, 0) + bias * bias + diagonal,
    );
    const biasWeights = new Float64Array(numClasses);
    const order = rows.map((_, i) => i);
    for (let c = 0; c < numClasses; c++) {
      const w = byClass.subarray(c * numFeatures, (c + 1) * numFeatures);
      const alpha = new Float64Array(rows.length);
      for (let pass = 0; pass < o.maxPasses; pass++) {
        rng.shuffle(order);
        let largestGradient = 0;
        for (const i of order) {
          const row = rows[i];
          const y = labels[i] === c ? 1 : -1;
          const gradient = y * (dot(w, row) + biasWeights[c] * bias) - 1 + alpha[i] * diagonal;
          const projected = alpha[i] === 0 ? Math.min(gradient, 0) : gradient;
          largestGradient = Math.max(largestGradient, Math.abs(projected));
          if (projected === 0) continue;
          const previous = alpha[i];
          alpha[i] = Math.max(previous - gradient / squaredNorms[i], 0);
          const step = (alpha[i] - previous) * y;
          for (let k = 0; k < row.indices.length; k++) w[row.indices[k]] += step * row.values[k];
          biasWeights[c] += step * bias;
        }
        if (largestGradient < o.tolerance) break;
      }
    }
    const weights = new Float32Array(numFeatures * numClasses);
    for (let c = 0; c < numClasses; c++) {
      for (let f = 0; f < numFeatures; f++) weights[f * numClasses + c] = byClass[c * numFeatures + f];
    }
    return new LinearSvmClassifier(
      FeatureRowTable.of(extractor, QuantizedRows.fromTable(weights, numClasses)),
      Float32Array.from(biasWeights, (weight) => weight * bias),
      o,
      numClasses,
    );
  }

  /** Softmax of the scaled margins, row-major n × numClasses. */
  predictProba(texts: ProductText[]): Float32Array {
    return scoreTexts(this, texts);
  }

  /**
   * Writes the class probabilities of one row of this model's features, entries [from, to) of `rows`, to
   * out[offset, offset + numClasses).
   */
  scoreRow(rows: SparseRowBuffer, from: number, to: number, out: Float32Array, offset: number): void {
    const { numClasses, margins } = this;
    const sums = this.table.sum(rows, from, to);
    const temperature = this.options.temperature;
    const intercepts = this.intercepts;
    for (let c = 0; c < numClasses; c++) margins[c] = (sums[c] + intercepts[c]) * temperature;
    softmaxInto(margins, numClasses, out, offset);
  }

  serialize(): { manifest: Record<string, unknown>; files: Record<string, Uint8Array> } {
    const { params, files } = this.table.toFiles(WEIGHTS_FILE);
    return {
      manifest: { format: FORMAT, numClasses: this.numClasses, options: this.options, features: params },
      files: { ...files, [INTERCEPTS_FILE]: toBytes(this.intercepts) },
    };
  }

  /** With `consumeFiles`, the weights' file is emptied once loaded (see FeatureRowTable.fromFiles). */
  static *deserialize(
    manifest: Record<string, unknown>,
    files: Record<string, Uint8Array>,
    { consumeFiles = false }: { consumeFiles?: boolean } = {},
  ): SlicedWork<LinearSvmClassifier> {
    const withoutIntercepts = manifest.format === FORMAT_WITHOUT_INTERCEPTS;
    if (manifest.format !== FORMAT && !withoutIntercepts)
      throw new Error(`Unknown linear model format ${String(manifest.format)}`);
    const numClasses = manifest.numClasses as number;
    const intercepts = withoutIntercepts
      ? new Float32Array(numClasses)
      : new Float32Array(requireFile(files, INTERCEPTS_FILE));
    if (intercepts.length !== numClasses) throw new Error('Linear model intercepts do not match its classes');
    const table = yield* FeatureRowTable.fromFiles(
      manifest.features as TextFeatureParams,
      files,
      WEIGHTS_FILE,
      numClasses,
      consumeFiles,
    );
    return new LinearSvmClassifier(table, intercepts, manifest.options as LinearSvmOptions, numClasses);
  }
}

function dot(weights: Float32Array, row: SparseRow): number {
  let sum = 0;
  for (let k = 0; k < row.indices.length; k++) sum += weights[row.indices[k]] * row.values[k];
  return sum;
}
