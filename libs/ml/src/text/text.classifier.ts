import { argmaxRows, evaluateClassification } from '@app/classification-metrics';
import { stratifiedKFold } from '../evaluation/stratified-k-fold';
import { requireFile, toBytes } from '../runtime/binary-files';
import type { EpochProgress } from '../runtime/epoch-progress';
import { SeededRandom } from '../runtime/random';
import { initBackend, tf } from '../runtime/tf-backend';
import { accumulateQuantizedRows, QuantizedRows, softmaxInto } from './sparse-rows';
import { scoreTexts } from './score-texts';
import { releaseBuffers, WasmRowTable } from './wasm-rows';
import {
  SparseRowBuffer,
  TextFeatureExtractor,
  type ProductText,
  type SparseRow,
  type TextFeatureOptions,
  type TextFeatureParams,
} from './text-features.extractor';

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
 * row; see QuantizedRows).
 */
const FORMAT = 'text-classifier/3';
/** Both sparse layers in one float32 file, sparse.f32, laid out as in sparse.q8; quantized at load. */
const FORMAT_FLOAT = 'text-classifier/2';
/**
 * Embedding and wide layers in two float32 files, embedding.f32 ([features × hidden]) and wide.f32 ([features ×
 * classes]); interleaved and quantized at load.
 */
const FORMAT_SEPARATE_LAYERS = 'text-classifier/1';

const ADAM_BETA1 = 0.9;
const ADAM_BETA2 = 0.999;
const ADAM_EPSILON = 1e-8;

/**
 * Lazy Adam over the rows of the sparse input layer: only rows touched by a batch are updated (their moments decay
 * only when touched, as in TensorFlow's LazyAdamOptimizer), so a step costs O(touched rows × hidden), not the
 * whole table.
 */
class SparseAdam {
  private readonly m: Float32Array;
  private readonly v: Float32Array;
  private step = 0;

  /** The layer is columns [offset, offset + width) of the rows of `weights`, `stride` apart. */
  constructor(
    private readonly weights: Float32Array,
    private readonly stride: number,
    private readonly offset: number,
    readonly width: number,
    private readonly learningRate: number,
  ) {
    const rows = weights.length / stride;
    this.m = new Float32Array(rows * width);
    this.v = new Float32Array(rows * width);
  }

  apply(rows: Int32Array, count: number, grads: Float32Array): void {
    this.step++;
    const rate =
      (this.learningRate * Math.sqrt(1 - Math.pow(ADAM_BETA2, this.step))) /
      (1 - Math.pow(ADAM_BETA1, this.step));
    const { weights, m, v, width, stride, offset } = this;
    for (let r = 0; r < count; r++) {
      const base = rows[r] * width;
      const weightBase = rows[r] * stride + offset;
      const gradBase = r * width;
      for (let k = 0; k < width; k++) {
        const g = grads[gradBase + k];
        const i = base + k;
        m[i] = ADAM_BETA1 * m[i] + (1 - ADAM_BETA1) * g;
        v[i] = ADAM_BETA2 * v[i] + (1 - ADAM_BETA2) * g * g;
        weights[weightBase + k] -= (rate * m[i]) / (Math.sqrt(v[i]) + ADAM_EPSILON);
      }
    }
  }
}

/**
 * Gradient of a sparse layer for one batch, summed per touched row (a feature can occur in several rows of the batch,
 * and Adam needs the summed gradient), then handed to that layer's optimiser.
 */
class SparseGradient {
  private readonly slotOf: Int32Array;
  private readonly touched: Int32Array;
  private grads = new Float32Array(0);

  constructor(numFeatures: number) {
    this.slotOf = new Int32Array(numFeatures).fill(-1);
    this.touched = new Int32Array(numFeatures);
  }

  /** `upstream` is dL/d(output), batch × width. */
  apply(batch: SparseRow[], upstream: Float32Array, optimizer: SparseAdam): void {
    const { slotOf, touched } = this;
    const width = optimizer.width;
    let count = 0;
    for (const { indices } of batch) {
      for (const f of indices) if (slotOf[f] < 0) touched[(slotOf[f] = count++)] = f;
    }
    if (this.grads.length < count * width) this.grads = new Float32Array(count * width * 2);
    const grads = this.grads;
    grads.fill(0, 0, count * width);
    batch.forEach(({ indices, values }, b) => {
      const upBase = b * width;
      for (let j = 0; j < indices.length; j++) {
        const base = slotOf[indices[j]] * width;
        const value = values[j];
        for (let k = 0; k < width; k++) grads[base + k] += value * upstream[upBase + k];
      }
    });
    optimizer.apply(touched, count, grads);
    for (let r = 0; r < count; r++) slotOf[touched[r]] = -1;
  }
}

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
  /** The two sparse layers' outputs for one text: hidden, then wide logits. */
  private readonly layerSums: Float32Array;
  private readonly logits: Float64Array;
  /** The sparse layers, quantized, where WebAssembly SIMD is unavailable; otherwise they are in `wasm`. */
  private readonly table?: QuantizedRows;
  private readonly wasm?: WasmRowTable;
  readonly extractor: TextFeatureExtractor;
  /**
   * Whether the rows are laid out by frequency (see TextFeatureExtractor.frequencyOrder), the extractor's columns
   * renumbered to match; serialize() writes them back in the order the model was given them.
   */
  private readonly reordered: boolean;

  private constructor(
    extractor: TextFeatureExtractor,
    table: QuantizedRows,
    private readonly head: DenseHead<Float32Array>,
    private readonly options: TextClassifierOptions,
    readonly numClasses: number,
    /** The extractor's arrays are the model's to renumber in place (they came from files handed over). */
    ownsExtractorArrays = false,
  ) {
    this.layerSums = new Float32Array(options.hidden + numClasses);
    this.logits = new Float64Array(numClasses);
    // Frequent features' rows side by side: the rows most texts read then share cache lines and pages (the sums of
    // the bench model's networks and SVMs: 93 -> 80 us per text).
    const order = WasmRowTable.available ? extractor.frequencyOrder() : undefined;
    this.wasm = WasmRowTable.create(table, order);
    if (!this.wasm) this.table = table;
    this.reordered = this.wasm !== undefined && order !== undefined;
    this.extractor = this.reordered ? extractor.reordered(order!, ownsExtractorArrays) : extractor;
  }

  /** The extractor the model's rows come from; models whose extractors share a hasher can share a text's hashing. */
  get features(): TextFeatureExtractor {
    return this.extractor;
  }

  static async train(
    texts: ProductText[],
    labels: number[],
    numClasses: number,
    options: Partial<TextClassifierOptions> & { seed: number },
    onEpoch?: (progress: EpochProgress) => void,
  ): Promise<TextClassifier> {
    if (texts.length !== labels.length) throw new Error(`${texts.length} texts but ${labels.length} labels`);
    await initBackend();
    const o: TextClassifierOptions = { ...DEFAULT_TEXT_CLASSIFIER_OPTIONS, ...options };
    const rng = new SeededRandom(o.seed);
    const { train, validation } = splitValidation(labels, o.validationFraction, rng.fork());

    const extractor = TextFeatureExtractor.fit(
      train.map((i) => texts[i]),
      o.features,
    );
    const rows = extractor.transform(texts);
    const sparse = initSparseLayers(extractor.numFeatures, o.hidden, numClasses, rng);
    const head: DenseHead<tf.Variable> = {
      bias1: tf.variable(tf.zeros([o.hidden])),
      kernel2: tf.variable(tf.initializers.glorotUniform({ seed: rng.fork() }).apply([o.hidden, numClasses])),
      bias2: tf.variable(tf.zeros([numClasses])),
    };
    const training = new Training(sparse, head, o, numClasses, extractor.numFeatures);
    await training.fit(rows, labels, train, validation, rng, onEpoch);
    const weights: DenseHead<Float32Array> = {
      bias1: (head.bias1.dataSync() as Float32Array).slice(),
      kernel2: (head.kernel2.dataSync() as Float32Array).slice(),
      bias2: (head.bias2.dataSync() as Float32Array).slice(),
    };
    Object.values(head).forEach((variable) => variable.dispose());
    const table = QuantizedRows.fromTable(sparse, o.hidden + numClasses);
    return new TextClassifier(extractor, table, weights, o, numClasses);
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
    const { logits, numClasses, table, wasm } = this;
    const { hidden } = this.options;
    const { bias1, kernel2, bias2 } = this.head;
    let layerSums = this.layerSums;
    if (wasm) {
      wasm.sum(rows.indices, rows.values, from, to);
      layerSums = wasm.sums;
    } else {
      layerSums.fill(0);
      accumulateQuantizedRows(table!, rows.indices, rows.values, from, to, layerSums);
    }
    for (let c = 0; c < numClasses; c++) logits[c] = bias2[c] + layerSums[hidden + c];
    for (let k = 0; k < hidden; k++) {
      const activation = layerSums[k] + bias1[k];
      if (activation <= 0) continue;
      const base = k * numClasses;
      for (let c = 0; c < numClasses; c++) logits[c] += activation * kernel2[base + c];
    }
    softmaxInto(logits, numClasses, out, offset);
  }

  /** The model as artifact files: its sparse layers quantized, rows in the extractor's bucket order. */
  serialize(): { manifest: Record<string, unknown>; files: Record<string, Uint8Array> } {
    const order = this.reordered ? this.extractor.inBucketOrder() : undefined;
    const features = (order ? this.extractor.reordered(order) : this.extractor).toFiles();
    const table = this.wasm ? this.wasm.table(order) : this.table!;
    return {
      manifest: {
        format: FORMAT,
        numClasses: this.numClasses,
        options: this.options,
        features: features.params,
      },
      files: {
        ...features.files,
        'sparse.q8': table.bytes.slice(),
        'bias1.f32': toBytes(this.head.bias1),
        'kernel2.f32': toBytes(this.head.kernel2),
        'bias2.f32': toBytes(this.head.bias2),
      },
    };
  }

  /**
   * With `consumeFiles`, the caller hands the files over (a load that read them for this model alone): the sparse
   * layers' file is emptied once copied into WebAssembly memory, so its memory is freed at once. Models saved with
   * float32 sparse layers (text-classifier/1 and /2) are quantized as they load.
   */
  static async deserialize(
    manifest: Record<string, unknown>,
    files: Record<string, Uint8Array>,
    { consumeFiles = false }: { consumeFiles?: boolean } = {},
  ): Promise<TextClassifier> {
    const { format } = manifest;
    if (format !== FORMAT && format !== FORMAT_FLOAT && format !== FORMAT_SEPARATE_LAYERS)
      throw new Error(`Unknown text model format ${String(format)}`);
    const numClasses = manifest.numClasses as number;
    const options = manifest.options as TextClassifierOptions;
    const { hidden } = options;
    const width = hidden + numClasses;
    const file = (name: string) => requireFile(files, name);
    const extractor = TextFeatureExtractor.fromFiles(manifest.features as TextFeatureParams, files);
    const numFeatures = extractor.numFeatures;
    const mismatch = () => new Error('Text model weights do not match its feature count');
    let table: QuantizedRows;
    let read: ArrayBuffer[];
    if (format === FORMAT) {
      read = [file('sparse.q8')];
      if (read[0].byteLength !== numFeatures * QuantizedRows.strideOf(width)) throw mismatch();
      table = new QuantizedRows(new Uint8Array(read[0]), width);
    } else if (format === FORMAT_FLOAT) {
      read = [file('sparse.f32')];
      const sparse = new Float32Array(read[0]);
      if (sparse.length !== numFeatures * width) throw mismatch();
      table = QuantizedRows.fromTable(sparse, width);
    } else {
      read = [file('embedding.f32'), file('wide.f32')];
      const [embedding, wide] = read.map((buffer) => new Float32Array(buffer));
      if (embedding.length !== numFeatures * hidden || wide.length !== numFeatures * numClasses)
        throw mismatch();
      table = QuantizedRows.quantize(numFeatures, width, (f, row) => {
        row.set(embedding.subarray(f * hidden, (f + 1) * hidden));
        row.set(wide.subarray(f * numClasses, (f + 1) * numClasses), hidden);
      });
    }
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
    const model = new TextClassifier(extractor, table, head, options, numClasses, consumeFiles);
    if (consumeFiles && model.wasm) releaseBuffers(read);
    return model;
  }

  /** Nothing to free: the weights are plain arrays (TF.js only holds the head while training). */
  dispose(): void {}
}

/** The training state of one network: the sparse table updated in place, the head as TF.js variables. */
class Training {
  constructor(
    private readonly sparse: Float32Array,
    private readonly head: DenseHead<tf.Variable>,
    private readonly options: TextClassifierOptions,
    private readonly numClasses: number,
    private readonly numFeatures: number,
  ) {}

  async fit(
    rows: SparseRow[],
    labels: number[],
    train: number[],
    validation: number[],
    rng: SeededRandom,
    onEpoch?: (progress: EpochProgress) => void,
  ): Promise<void> {
    const { hidden, batchSize, dropout } = this.options;
    const { sparse, numClasses } = this;
    const width = hidden + numClasses;
    const embeddingAdam = new SparseAdam(sparse, width, 0, hidden, this.options.sparseLearningRate);
    const wideAdam = new SparseAdam(sparse, width, hidden, numClasses, this.options.sparseLearningRate);
    const sparseStep = new SparseGradient(this.numFeatures);
    const optimizer = tf.train.adam(this.options.learningRate);
    const valLabels = validation.map((i) => labels[i]);
    const classes = Array.from({ length: numClasses }, (_, c) => c);
    let best = { f1: -1, sparse: sparse.slice(), head: this.snapshotHead() };
    let sinceBest = 0;

    for (let epoch = 1; epoch <= this.options.epochs; epoch++) {
      const started = Date.now();
      const order = rng.shuffle([...train]);
      let lossSum = 0;
      for (let start = 0; start < order.length; start += batchSize) {
        const batch = order
          .slice(start, start + batchSize)
          .map((i) => dropFeatures(rows[i], this.options.inputDropout, rng));
        const batchLabels = order.slice(start, start + batchSize).map((i) => labels[i]);
        const h = sparseProduct(batch, sparse, width, 0, hidden);
        const wideLogits = sparseProduct(batch, sparse, width, hidden, numClasses);
        const mask = new Float32Array(batch.length * hidden);
        for (let k = 0; k < mask.length; k++) mask[k] = rng.next() < dropout ? 0 : 1 / (1 - dropout);
        const { loss, dh, dWide } = this.headStep(h, wideLogits, mask, batchLabels, optimizer);
        lossSum += loss * batch.length;

        sparseStep.apply(batch, dh, embeddingAdam);
        sparseStep.apply(batch, dWide, wideAdam);
      }

      const probs = tfjsProbabilities(
        validation.map((i) => rows[i]),
        sparse,
        this.head,
        hidden,
        numClasses,
      );
      const f1 = evaluateClassification(valLabels, argmaxRows(probs, numClasses), classes).weighted_f1;
      onEpoch?.({
        epoch,
        loss: lossSum / order.length,
        valWeightedF1: f1,
        seconds: (Date.now() - started) / 1000,
      });
      // On a tie the later weights are kept, but only a real improvement restarts the patience (as in the image model).
      const improved = f1 > best.f1;
      if (f1 >= best.f1) {
        best.head.forEach((t) => t.dispose());
        best = { f1, sparse: sparse.slice(), head: this.snapshotHead() };
      }
      sinceBest = improved ? 0 : sinceBest + 1;
      if (sinceBest >= this.options.patience) break;
    }
    optimizer.dispose();
    sparse.set(best.sparse);
    this.head.bias1.assign(best.head[0]);
    this.head.kernel2.assign(best.head[1]);
    this.head.bias2.assign(best.head[2]);
    best.head.forEach((t) => t.dispose());
  }

  /**
   * Forward and backward through the TF.js head for one batch: returns the mean loss and the gradients that flow
   * back into the two sparse layers, dL/dh (batch × hidden) and dL/d(wide logits) (batch × classes).
   */
  private headStep(
    h: Float32Array,
    wideLogits: Float32Array,
    mask: Float32Array,
    labels: number[],
    optimizer: tf.Optimizer,
  ): { loss: number; dh: Float32Array; dWide: Float32Array } {
    const n = labels.length;
    const { bias1, kernel2, bias2 } = this.head;
    return tf.tidy(() => {
      const input = tf.variable(tf.tensor2d(h, [n, this.options.hidden]));
      const wide = tf.variable(tf.tensor2d(wideLogits, [n, this.numClasses]));
      const dropMask = tf.tensor2d(mask, [n, this.options.hidden]);
      const targets = tf.oneHot(tf.tensor1d(labels, 'int32'), this.numClasses);
      const { value, grads } = tf.variableGrads(() => {
        const activations = tf.relu(input.add(bias1)).mul(dropMask);
        const logits = activations.matMul(kernel2).add(bias2).add(wide);
        return tf.losses.softmaxCrossEntropy(targets, logits) as tf.Scalar;
      }, [input, wide, bias1, kernel2, bias2]);
      const dh = grads[input.name].dataSync() as Float32Array;
      const dWide = grads[wide.name].dataSync() as Float32Array;
      optimizer.applyGradients({
        [bias1.name]: grads[bias1.name],
        [kernel2.name]: grads[kernel2.name],
        [bias2.name]: grads[bias2.name],
      });
      const loss = value.dataSync()[0];
      input.dispose();
      wide.dispose();
      return { loss, dh, dWide };
    });
  }

  private snapshotHead(): tf.Tensor[] {
    return [this.head.bias1.clone(), this.head.kernel2.clone(), this.head.bias2.clone()];
  }
}

/**
 * Class probabilities of rows through the sparse layers and a TF.js head, in float32 as TF.js computes them. Training
 * scores its validation split with it (on the live variables); the spec checks the TypeScript inference path
 * against it.
 */
export function tfjsProbabilities(
  rows: SparseRow[],
  sparse: Float32Array,
  head: DenseHead<tf.Tensor>,
  hidden: number,
  numClasses: number,
): Float32Array {
  if (rows.length === 0) return new Float32Array(0);
  const width = hidden + numClasses;
  const h = sparseProduct(rows, sparse, width, 0, hidden);
  const wideLogits = sparseProduct(rows, sparse, width, hidden, numClasses);
  return tf.tidy(() => {
    const activations = tf.relu(tf.tensor2d(h, [rows.length, hidden]).add(head.bias1));
    const logits = activations
      .matMul(head.kernel2)
      .add(head.bias2)
      .add(tf.tensor2d(wideLogits, [rows.length, numClasses]));
    return tf.softmax(logits).dataSync() as Float32Array;
  });
}

/** Inverted dropout on a row's sparse features: much cheaper than decay on 200k-row tables, and it speeds up steps. */
function dropFeatures(row: SparseRow, rate: number, rng: SeededRandom): SparseRow {
  if (rate <= 0) return row;
  const scale = 1 / (1 - rate);
  const indices: number[] = [];
  const values: number[] = [];
  for (let j = 0; j < row.indices.length; j++) {
    if (rng.next() < rate) continue;
    indices.push(row.indices[j]);
    values.push(row.values[j] * scale);
  }
  return { indices: Int32Array.from(indices), values: Float32Array.from(values) };
}

/**
 * A sparse layer's forward pass for training, in float32: for each row, the value-weighted sum of its features' rows
 * of the layer, columns [offset, offset + width) of `table`'s rows (`stride` apart).
 */
function sparseProduct(
  rows: SparseRow[],
  table: Float32Array,
  stride: number,
  offset: number,
  width: number,
): Float32Array {
  const out = new Float32Array(rows.length * width);
  rows.forEach(({ indices, values }, r) => {
    const outBase = r * width;
    for (let j = 0; j < indices.length; j++) {
      const base = indices[j] * stride + offset;
      const value = values[j];
      for (let k = 0; k < width; k++) out[outBase + k] += value * table[base + k];
    }
  });
  return out;
}

/** The sparse table at the start of training: random embedding rows, zero wide rows. */
function initSparseLayers(
  numFeatures: number,
  hidden: number,
  numClasses: number,
  rng: SeededRandom,
): Float32Array {
  // Input rows are L2-normalised per field, so a fixed small scale keeps the initial h of order 0.1 whatever the
  // vocabulary size (a fan-in based scale would shrink it with the number of features).
  const width = hidden + numClasses;
  const sparse = new Float32Array(numFeatures * width);
  for (let f = 0; f < numFeatures; f++) {
    for (let k = 0; k < hidden; k++) sparse[f * width + k] = 0.1 * rng.normal();
  }
  return sparse;
}

/** Stratified hold-out: one fold of a stratified k-fold with k = round(1 / fraction). */
function splitValidation(
  labels: number[],
  fraction: number,
  seed: number,
): { train: number[]; validation: number[] } {
  const k = Math.max(2, Math.round(1 / fraction));
  const [fold] = stratifiedKFold(labels, k, seed);
  return { train: fold.train, validation: fold.test };
}
