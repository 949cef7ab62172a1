import { requireFile, toBytes } from '../runtime/binary-files.util';
import type { EpochProgress } from '../runtime/epoch-progress.types';
import type { SlicedWork } from '../runtime/sliced-work.util';
import { FeatureRowTable } from './feature-row.table';
import { softmaxInto } from './sparse-rows.util';
import { scoreTexts } from './score-texts.util';
import type {
  ProductText,
  SparseRowBuffer,
  TextFeatureExtractor,
  TextFeatureOptions,
  TextFeatureParams,
} from './text-features.extractor';
import { trainTextNetwork } from './text-network.trainer';

export interface TextClassifierOptions {
  seed: number;
  /** Width of the hidden layer. */
  hidden: number;
  /** Most epochs; training stops earlier when validation F1 stops improving. */
  epochs: number;
  /** Epochs without a better validation weighted F1 before stopping. */
  patience: number;
  batchSize: number;
  /** Adam step size for the sparse input layer (computed in TypeScript). */
  sparseLearningRate: number;
  /** Adam step size for the dense head (TensorFlow.js). */
  learningRate: number;
  dropout: number;
  /** Share of a training row's sparse features dropped at random each time it is seen. */
  inputDropout: number;
  /** Share of the training rows (stratified) held out for early stopping. */
  validationFraction: number;
  features: Partial<TextFeatureOptions>;
}

export const DEFAULT_TEXT_CLASSIFIER_OPTIONS: TextClassifierOptions = {
  seed: 0,
  hidden: 64,
  epochs: 15,
  patience: 3,
  batchSize: 64,
  sparseLearningRate: 0.003,
  learningRate: 0.003,
  dropout: 0.5,
  inputDropout: 0.5,
  validationFraction: 0.1,
  features: {},
};

/** The dense head: bias and ReLU on the hidden layer, then hidden × classes. */
export interface DenseHead<T> {
  bias1: T;
  kernel2: T;
  bias2: T;
}

/**
 * Both sparse layers in one quantized file, sparse.q8 ([features × (hidden + classes)], row f = embedding row, wide
 * row; see QuantizedRows and FeatureRowTable).
 */
const FORMAT = 'text-classifier/3';
const SPARSE_FILE = 'sparse.q8';

/**
 * Product-type classifier over title + description, "wide and deep" on hashed TF-IDF features:
 * - deep: a sparse input layer (value-weighted sum of embedding rows, [numFeatures × hidden]) → dense head (bias,
 *   ReLU, dropout in training, dense to the classes);
 * - wide: a sparse linear layer ([numFeatures × classes]) whose logits are added to the head's. It lets
 *   near-duplicate listings be memorised directly, which the hidden layer alone did less well
 *   (fold 0: weighted F1 0.760 → 0.763).
 * Both sparse layers live in one feature-major table, row f being feature f's embedding row then its wide row, so a
 * feature costs one contiguous read. Once trained, the table is quantized to 8 bits per weight (QuantizedRows): a
 * quarter of the memory, and a quarter of the cache lines for the hundreds of rows a text reads at random.
 * Training: TF.js runs the head and returns dL/dh and dL/d(wide logits) for the batch, and the touched sparse rows
 * are updated in TypeScript (lazy Adam). TF.js cannot train the sparse layers itself here (no sparse matmul
 * gradient, and the wasm backend lacks UnsortedSegmentSum for embeddings), and a dense input would be 200k wide.
 * Inference runs without TF.js: the head is 64 × 27 multiply-adds, far less than one TF.js op call costs, and the
 * sparse sums run in a WebAssembly SIMD kernel over a copy of the table in WebAssembly memory (bit-identical to
 * accumulateQuantizedRows, which is the fallback where SIMD is missing).
 */
export class TextClassifier {
  private readonly logits: Float64Array;

  private constructor(
    private readonly table: FeatureRowTable,
    private readonly head: DenseHead<Float32Array>,
    private readonly options: TextClassifierOptions,
    readonly numClasses: number,
  ) {
    this.logits = new Float64Array(numClasses);
  }

  /** The model's features; models whose features share a hasher can share a text's hashing. */
  get features(): TextFeatureExtractor {
    return this.table.features;
  }

  static async train(
    texts: ProductText[],
    labels: number[],
    numClasses: number,
    options: Partial<TextClassifierOptions> & { seed: number },
    onEpoch?: (progress: EpochProgress) => void,
  ): Promise<TextClassifier> {
    if (texts.length !== labels.length) throw new Error(`${texts.length} texts but ${labels.length} labels`);
    const o: TextClassifierOptions = { ...DEFAULT_TEXT_CLASSIFIER_OPTIONS, ...options };
    const { extractor, table, head } = await trainTextNetwork(texts, labels, numClasses, o, onEpoch);
    return new TextClassifier(FeatureRowTable.of(extractor, table), head, o, numClasses);
  }

  /** Class probabilities, row-major texts × classes. */
  predictProba(texts: ProductText[]): Float32Array {
    return scoreTexts(this, texts);
  }

  /**
   * Writes the class probabilities of one row of this model's features, entries [from, to) of `rows`, to
   * out[offset, offset + numClasses).
   */
  scoreRow(rows: SparseRowBuffer, from: number, to: number, out: Float32Array, offset: number): void {
    const { logits, numClasses } = this;
    const { hidden } = this.options;
    const { bias1, kernel2, bias2 } = this.head;
    const layerSums = this.table.sum(rows, from, to);
    for (let c = 0; c < numClasses; c++) logits[c] = bias2[c] + layerSums[hidden + c];
    for (let k = 0; k < hidden; k++) {
      const activation = layerSums[k] + bias1[k];
      if (activation <= 0) continue;
      const base = k * numClasses;
      for (let c = 0; c < numClasses; c++) logits[c] += activation * kernel2[base + c];
    }
    softmaxInto(logits, numClasses, out, offset);
  }

  /** The model as artifact files: its sparse layers quantized, rows in the features' bucket order. */
  serialize(): { manifest: Record<string, unknown>; files: Record<string, Uint8Array> } {
    const { params, files } = this.table.toFiles(SPARSE_FILE);
    return {
      manifest: { format: FORMAT, numClasses: this.numClasses, options: this.options, features: params },
      files: {
        ...files,
        'bias1.f32': toBytes(this.head.bias1),
        'kernel2.f32': toBytes(this.head.kernel2),
        'bias2.f32': toBytes(this.head.bias2),
      },
    };
  }

  /** With `consumeFiles`, the sparse layers' file is emptied once loaded (see FeatureRowTable.fromFiles). */
  static *deserialize(
    manifest: Record<string, unknown>,
    files: Record<string, Uint8Array>,
    { consumeFiles = false }: { consumeFiles?: boolean } = {},
  ): SlicedWork<TextClassifier> {
    if (manifest.format !== FORMAT) throw new Error(`Unknown text model format ${String(manifest.format)}`);
    const numClasses = manifest.numClasses as number;
    const options = manifest.options as TextClassifierOptions;
    const { hidden } = options;
    const file = (name: string) => requireFile(files, name);
    const head: DenseHead<Float32Array> = {
      bias1: new Float32Array(file('bias1.f32')),
      kernel2: new Float32Array(file('kernel2.f32')),
      bias2: new Float32Array(file('bias2.f32')),
    };
    if (
      head.bias1.length !== hidden ||
      head.kernel2.length !== hidden * numClasses ||
      head.bias2.length !== numClasses
    ) {
      throw new Error('Text model head does not match its hidden width and classes');
    }
    const table = yield* FeatureRowTable.fromFiles(
      manifest.features as TextFeatureParams,
      files,
      SPARSE_FILE,
      hidden + numClasses,
      consumeFiles,
    );
    return new TextClassifier(table, head, options, numClasses);
  }
}
