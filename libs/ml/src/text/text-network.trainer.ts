import { argmaxRows, evaluateClassification } from '@app/classification-metrics';
import { stratifiedKFold } from '../evaluation/stratified-k-fold.util';
import type { EpochProgress } from '../runtime/epoch-progress.types';
import { SeededRandom } from '../runtime/random.util';
import { initBackend, tf } from '../runtime/tf-backend.setup';
import { QuantizedRows } from './sparse-rows.util';
import { TextFeatureExtractor, type ProductText, type SparseRow } from './text-features.extractor';
import type { DenseHead, TextClassifierOptions } from './text.classifier';

/** What training hands to the model: its features, the sparse layers quantized, and the dense head. */
export interface TrainedTextNetwork {
  extractor: TextFeatureExtractor;
  table: QuantizedRows;
  head: DenseHead<Float32Array>;
}

/**
 * Trains one wide-and-deep network (see TextClassifier): features fitted on the training split, the sparse layers in
 * TypeScript (lazy Adam), the head in TensorFlow.js, early stopping on the validation split's weighted F1; the best
 * epoch's weights are kept, and the sparse layers are quantized at the end.
 */
export async function trainTextNetwork(
  texts: ProductText[],
  labels: number[],
  numClasses: number,
  o: TextClassifierOptions,
  onEpoch?: (progress: EpochProgress) => void,
): Promise<TrainedTextNetwork> {
  await initBackend();
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
  return { extractor, table: QuantizedRows.fromTable(sparse, o.hidden + numClasses), head: weights };
}

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
