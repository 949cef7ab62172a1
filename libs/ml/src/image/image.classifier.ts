import { argmaxRows, evaluateClassification } from '@app/classification-metrics';
import type { EpochProgress } from '../runtime/epoch-progress.types';
import { SeededRandom } from '../runtime/random.util';
import { initBackend, tf } from '../runtime/tf-backend.setup';
import { extractImageFeatures, IMAGE_FEATURE_LENGTH } from './image-features.extractor';
import {
  fitLogisticRegression,
  linearProbabilities,
  type LinearWeights,
} from './logistic-regression.classifier';
import type { BackboneSpec } from './pretrained-backbone.model';

/**
 * What the classifier reads from a photo: the hand-made descriptors of a size×size decode (image-features.extractor),
 * or the pooled layers of a pretrained backbone (`id` says which weights, layers and pooling: see backboneId).
 */
export type ImageFeatureSource =
  { kind: 'handmade'; size: number } | { kind: 'backbone'; backbone: BackboneSpec; id: string };

/** Side of the square RGB decode a source reads. */
export function sourceImageSize(source: ImageFeatureSource): number {
  return source.kind === 'handmade' ? source.size : source.backbone.size;
}

/** Identifies the features of a source: two sources with the same key give the same vector for the same photo. */
export function featureSourceKey(source: ImageFeatureSource): string {
  return source.kind === 'handmade' ? `handmade/${source.size}` : source.id;
}

/**
 * What sits on the standardised features: a multinomial logistic regression (`linear`, the default: on the frozen
 * backbone it scores higher than the MLP, see docs/image-model.md) or a one-hidden-layer MLP (`mlp`).
 */
export type ImageHead = 'linear' | 'mlp';

export interface ImageClassifierOptions {
  seed: number;
  /** Default `linear`. */
  head?: ImageHead;
  /** Linear head: inverse L2 strength, scikit-learn's C (standardised features). Default 0.01. */
  c?: number;
  /** Linear head: most L-BFGS iterations per fit (scikit-learn's default). Default 100. */
  maxIterations?: number;
  /** Side of the square RGB input; every pixel array must be size×size×3. Default 64. */
  size?: number;
  /** Most epochs; early stopping usually ends sooner. Default 80. */
  epochs?: number;
  /** Epochs without a better validation weighted F1 before stopping. Default 15. */
  patience?: number;
  /** Stop starting new epochs after this many seconds (the best weights so far are kept). Default: no limit. */
  maxSeconds?: number;
  batchSize?: number;
  learningRate?: number;
  /** Share of each class held out (stratified) for early stopping. Default 0.15. */
  validationFraction?: number;
  /** Units of the hidden ReLU layer. Default 256. */
  hiddenUnits?: number;
  /** Dropout rate on the hidden layer. Default 0.3. */
  dropout?: number;
}

interface ResolvedOptions extends Required<Omit<ImageClassifierOptions, 'maxSeconds'>> {
  maxSeconds: number;
}

const MANIFEST_FORMAT = 'image-classifier/3';
/** The hand-made features only, before backbones: still loaded. */
const HANDMADE_FORMAT = 'image-classifier/2';
const WEIGHTS_FILE = 'weights.bin';
const MIN_FEATURE_STD = 0.02;
const PREDICT_BATCH = 256;

function resolveOptions(options: ImageClassifierOptions): ResolvedOptions {
  return {
    seed: options.seed,
    head: options.head ?? 'linear',
    c: options.c ?? 0.01,
    maxIterations: options.maxIterations ?? 100,
    size: options.size ?? 64,
    epochs: options.epochs ?? 80,
    patience: options.patience ?? 15,
    maxSeconds: options.maxSeconds ?? Infinity,
    batchSize: options.batchSize ?? 32,
    learningRate: options.learningRate ?? 0.001,
    validationFraction: options.validationFraction ?? 0.15,
    hiddenUnits: options.hiddenUnits ?? 256,
    dropout: options.dropout ?? 0.3,
  };
}

/** The MLP head's two dense layers. */
interface MlpHead {
  kind: 'mlp';
  hiddenKernel: tf.Tensor2D;
  hiddenBias: tf.Tensor1D;
  outputKernel: tf.Tensor2D;
  outputBias: tf.Tensor1D;
}

/** Standardisation fitted on the training rows (features become (x - mean) / std) and the head. */
interface ModelParameters {
  mean: Float32Array;
  std: Float32Array;
  head: MlpHead | ({ kind: 'linear' } & LinearWeights);
}

/** Order of the arrays in the weights file, with their shapes for `features` inputs (`hidden` 0: linear head). */
function parameterShapes(features: number, hidden: number, classes: number): number[][] {
  const standardisation = [[features], [features]];
  return hidden === 0
    ? [...standardisation, [features, classes], [classes]]
    : [...standardisation, [features, hidden], [hidden], [hidden, classes], [classes]];
}

function checkPixels(pixels: Uint8Array[], size: number): void {
  const expected = size * size * 3;
  pixels.forEach((p, i) => {
    if (p.length !== expected) {
      throw new Error(`image ${i} has ${p.length} values, expected ${size}×${size}×3 = ${expected}`);
    }
  });
}

/** Stratified split: about `fraction` of each class (at least one row of classes with 2+ rows) goes to validation. */
function stratifiedSplit(
  labels: number[],
  fraction: number,
  rng: SeededRandom,
): { train: number[]; val: number[] } {
  const byClass = new Map<number, number[]>();
  labels.forEach((label, i) => byClass.set(label, [...(byClass.get(label) ?? []), i]));
  const train: number[] = [];
  const val: number[] = [];
  for (const label of [...byClass.keys()].sort((a, b) => a - b)) {
    const rows = rng.shuffle(byClass.get(label) as number[]);
    const nVal = rows.length < 2 ? 0 : Math.max(1, Math.round(rows.length * fraction));
    val.push(...rows.slice(0, nVal));
    train.push(...rows.slice(nVal));
  }
  return { train, val };
}

/** Mean and standard deviation of each feature over `rows`, the deviation floored (see MIN_FEATURE_STD). */
function fitStandardisation(
  features: Float32Array[],
  rows: number[],
): { mean: Float32Array; std: Float32Array } {
  const length = features[0].length;
  const mean = new Float32Array(length);
  const std = new Float32Array(length);
  for (let j = 0; j < length; j++) {
    let sum = 0;
    for (const r of rows) sum += features[r][j];
    const m = sum / rows.length;
    let squares = 0;
    for (const r of rows) squares += (features[r][j] - m) ** 2;
    const s = Math.sqrt(squares / rows.length);
    mean[j] = m;
    // Features are all on a 0..1 or -1..1 scale (backbone activations 0..6). A feature nearly constant in training (a rare histogram bin) would
    // otherwise turn a tiny difference into a z-score in the thousands that outweighs everything else.
    std[j] = Math.max(s, MIN_FEATURE_STD);
  }
  return { mean, std };
}

/** He-normal for the ReLU layer, Glorot-uniform for the softmax layer, drawn from the seeded generator. */
function initialWeights(features: number, hidden: number, classes: number, rng: SeededRandom): tf.Variable[] {
  const heStd = Math.sqrt(2 / features);
  const glorotLimit = Math.sqrt(6 / (hidden + classes));
  const hiddenKernel = Float32Array.from({ length: features * hidden }, () => rng.normal() * heStd);
  const outputKernel = Float32Array.from(
    { length: hidden * classes },
    () => (rng.next() * 2 - 1) * glorotLimit,
  );
  return [
    tf.variable(tf.tensor2d(hiddenKernel, [features, hidden])),
    tf.variable(tf.zeros([hidden])),
    tf.variable(tf.tensor2d(outputKernel, [hidden, classes])),
    tf.variable(tf.zeros([classes])),
  ];
}

/** Logits of the MLP; `dropMask` (training only) scales the hidden units. */
function logits(x: tf.Tensor2D, weights: tf.Tensor[], dropMask?: tf.Tensor2D): tf.Tensor2D {
  const [hiddenKernel, hiddenBias, outputKernel, outputBias] = weights;
  let hidden = tf.relu(tf.add<tf.Tensor2D>(tf.matMul(x, hiddenKernel as tf.Tensor2D), hiddenBias));
  if (dropMask) hidden = tf.mul(hidden, dropMask);
  return tf.add<tf.Tensor2D>(tf.matMul(hidden, outputKernel as tf.Tensor2D), outputBias);
}

function standardise(features: Float32Array, mean: Float32Array, std: Float32Array): Float32Array {
  return features.map((x, j) => (x - mean[j]) / std[j]);
}

function featureTensor(rows: Float32Array[]): tf.Tensor2D {
  const length = rows[0].length;
  const input = new Float32Array(rows.length * length);
  rows.forEach((row, i) => input.set(row, i * length));
  return tf.tensor2d(input, [rows.length, length]);
}

/** Softmax probabilities of standardised feature rows, row-major n × classes, in batches to bound memory. */
function probabilities(rows: Float32Array[], weights: tf.Tensor[]): Float32Array {
  const classes = weights[3].shape[0];
  const out = new Float32Array(rows.length * classes);
  for (let start = 0; start < rows.length; start += PREDICT_BATCH) {
    const proba = tf.tidy(() =>
      tf.softmax(logits(featureTensor(rows.slice(start, start + PREDICT_BATCH)), weights)),
    );
    out.set(proba.dataSync() as Float32Array, start * classes);
    proba.dispose();
  }
  return out;
}

/**
 * Image classifier: features of the photo (hand-made colour/layout/gradient descriptors, or the pooled layers of a
 * pretrained backbone: see ImageFeatureSource), standardised, then a one-hidden-layer MLP in TensorFlow.js. The
 * features are computed outside (ProductClassifier, dataset extraction with its cache); only the dense layers run
 * here. Dropout masks come from our seeded generator so that a seed fixes the whole training run.
 */
export class ImageClassifier {
  private constructor(
    private readonly params: ModelParameters,
    readonly source: ImageFeatureSource,
    readonly numClasses: number,
  ) {}

  /** Side of the square RGB decode the features are computed from. */
  get size(): number {
    return sourceImageSize(this.source);
  }

  get featureLength(): number {
    return this.params.mean.length;
  }

  /** Trains on the hand-made features of decoded images (size×size×3 RGB bytes each). */
  static async train(
    pixels: Uint8Array[],
    labels: number[],
    numClasses: number,
    options: ImageClassifierOptions,
    onEpoch?: (progress: EpochProgress) => void,
  ): Promise<ImageClassifier> {
    const size = resolveOptions(options).size;
    checkPixels(pixels, size);
    const features = pixels.map((p) => extractImageFeatures(p, size));
    return ImageClassifier.trainOnFeatures(
      features,
      labels,
      numClasses,
      { kind: 'handmade', size },
      options,
      onEpoch,
    );
  }

  /** Trains on feature vectors already computed from `source` (one per image, all of the same length). */
  static async trainOnFeatures(
    raw: Float32Array[],
    labels: number[],
    numClasses: number,
    source: ImageFeatureSource,
    options: ImageClassifierOptions,
    onEpoch?: (progress: EpochProgress) => void,
  ): Promise<ImageClassifier> {
    if (raw.length !== labels.length) throw new Error('features and labels differ in length');
    if (raw.length === 0) throw new Error('no training images');
    const featureLength = raw[0].length;
    if (raw.some((f) => f.length !== featureLength)) throw new Error('feature vectors differ in length');
    const o = resolveOptions(options);
    if (o.head === 'linear') return ImageClassifier.trainLinear(raw, labels, numClasses, source, o, onEpoch);
    await initBackend();

    const rng = new SeededRandom(o.seed);
    const { train, val } = stratifiedSplit(labels, o.validationFraction, rng);
    const { mean, std } = fitStandardisation(raw, train);
    const features = raw.map((f) => standardise(f, mean, std));
    const variables = initialWeights(featureLength, o.hiddenUnits, numClasses, rng);
    const optimizer = tf.train.adam(o.learningRate);
    const classes = Array.from({ length: numClasses }, (_, c) => c);
    const valFeatures = val.map((i) => features[i]);
    const valLabels = val.map((i) => labels[i]);
    const keepProb = 1 - o.dropout;

    let best = { f1: -1, weights: variables.map((v) => v.clone()) };
    let sinceBest = 0;
    const started = Date.now();
    for (let epoch = 1; epoch <= o.epochs; epoch++) {
      const order = rng.shuffle([...train]);
      let lossSum = 0;
      for (let start = 0; start < order.length; start += o.batchSize) {
        const batch = order.slice(start, start + o.batchSize);
        const mask = new Float32Array(batch.length * o.hiddenUnits);
        for (let i = 0; i < mask.length; i++) mask[i] = rng.next() < keepProb ? 1 / keepProb : 0;

        const loss = tf.tidy(() => {
          const x = featureTensor(batch.map((row) => features[row]));
          const y = tf.oneHot(
            tf.tensor1d(
              batch.map((row) => labels[row]),
              'int32',
            ),
            numClasses,
          );
          const dropMask = tf.tensor2d(mask, [batch.length, o.hiddenUnits]);
          return optimizer.minimize(
            () => tf.losses.softmaxCrossEntropy(y, logits(x, variables, dropMask)),
            true,
            variables,
          ) as tf.Scalar;
        });
        lossSum += (await loss.data())[0] * batch.length;
        loss.dispose();
      }

      const valF1 =
        val.length === 0
          ? 0
          : evaluateClassification(
              valLabels,
              argmaxRows(probabilities(valFeatures, variables), numClasses),
              classes,
            ).weighted_f1;
      // On a tie the later weights are kept (they fit the training data better), but only a real improvement
      // restarts the patience: otherwise a perfect first epoch would pin the barely trained weights.
      const improved = valF1 > best.f1;
      if (valF1 >= best.f1) {
        best.weights.forEach((w) => w.dispose());
        best = { f1: valF1, weights: variables.map((v) => v.clone()) };
      }
      sinceBest = improved ? 0 : sinceBest + 1;
      const seconds = (Date.now() - started) / 1000;
      onEpoch?.({ epoch, loss: lossSum / order.length, valWeightedF1: valF1, seconds });
      if (sinceBest >= o.patience || seconds >= o.maxSeconds || val.length === 0) break;
    }
    variables.forEach((v) => v.dispose());
    optimizer.dispose();
    const [hiddenKernel, hiddenBias, outputKernel, outputBias] = best.weights;
    return new ImageClassifier(
      {
        mean,
        std,
        head: {
          kind: 'mlp',
          hiddenKernel: hiddenKernel as tf.Tensor2D,
          hiddenBias: hiddenBias as tf.Tensor1D,
          outputKernel: outputKernel as tf.Tensor2D,
          outputBias: outputBias as tf.Tensor1D,
        },
      },
      source,
      numClasses,
    );
  }

  /**
   * The linear head: a first fit on the stratified training split reports its validation weighted F1 as it goes (the
   * progress lines and the model card), then a fit on every row, started from the first, gives the model. The
   * penalty, not early stopping, keeps it from overfitting, so the held-out rows are not lost to the final model.
   */
  private static async trainLinear(
    raw: Float32Array[],
    labels: number[],
    numClasses: number,
    source: ImageFeatureSource,
    o: ResolvedOptions,
    onEpoch?: (progress: EpochProgress) => void,
  ): Promise<ImageClassifier> {
    await initBackend();
    const all = raw.map((_, i) => i);
    const { mean, std } = fitStandardisation(raw, all);
    const features = raw.map((f) => standardise(f, mean, std));
    const { train, val } = stratifiedSplit(labels, o.validationFraction, new SeededRandom(o.seed));
    const classes = Array.from({ length: numClasses }, (_, c) => c);
    const started = Date.now();
    const fit = { c: o.c, maxIterations: o.maxIterations, tolerance: 1e-4 };
    let initial: LinearWeights | undefined;
    if (val.length) {
      const valFeatures = val.map((i) => features[i]);
      const valLabels = val.map((i) => labels[i]);
      initial = fitLogisticRegression(
        train.map((i) => features[i]),
        train.map((i) => labels[i]),
        numClasses,
        {
          ...fit,
          onIteration: (iteration, loss, weights) =>
            onEpoch?.({
              epoch: iteration,
              loss,
              valWeightedF1: evaluateClassification(
                valLabels,
                argmaxRows(linearProbabilities(valFeatures, weights), numClasses),
                classes,
              ).weighted_f1,
              seconds: (Date.now() - started) / 1000,
            }),
        },
      );
    }
    const weights = fitLogisticRegression(features, labels, numClasses, { ...fit, initial });
    return new ImageClassifier({ mean, std, head: { kind: 'linear', ...weights } }, source, numClasses);
  }

  /** Class probabilities of decoded images, row-major n × numClasses (a classifier on hand-made features only). */
  predictProba(pixels: Uint8Array[]): Float32Array {
    if (this.source.kind !== 'handmade') {
      throw new Error('this image model reads backbone features: use predictFeatures');
    }
    checkPixels(pixels, this.size);
    return this.predictFeatures(pixels.map((p) => extractImageFeatures(p, this.size)));
  }

  /** Class probabilities of feature vectors from this classifier's source, row-major n × numClasses. */
  predictFeatures(raw: Float32Array[]): Float32Array {
    const { mean, std, head } = this.params;
    raw.forEach((f, i) => {
      if (f.length !== mean.length) {
        throw new Error(`image ${i} has ${f.length} features, this model reads ${mean.length}`);
      }
    });
    if (raw.length === 0) return new Float32Array(0);
    const features = raw.map((f) => standardise(f, mean, std));
    if (head.kind === 'linear') return linearProbabilities(features, head);
    return probabilities(features, [head.hiddenKernel, head.hiddenBias, head.outputKernel, head.outputBias]);
  }

  /** The head's arrays in `parameterShapes` order after the standardisation. */
  private async headArrays(): Promise<Float32Array[]> {
    const { head } = this.params;
    if (head.kind === 'linear') return [head.kernel, head.bias];
    const tensors = [head.hiddenKernel, head.hiddenBias, head.outputKernel, head.outputBias];
    return Promise.all(tensors.map(async (t) => (await t.data()) as Float32Array));
  }

  /** Manifest (JSON) plus one little-endian float32 file holding the parameters in `parameterShapes` order. */
  async serialize(): Promise<{ manifest: Record<string, unknown>; files: Record<string, Uint8Array> }> {
    const { head } = this.params;
    const hiddenUnits = head.kind === 'mlp' ? head.hiddenBias.shape[0] : 0;
    const arrays = [this.params.mean, this.params.std, ...(await this.headArrays())];
    const bytes = new Uint8Array(arrays.reduce((s, a) => s + a.length, 0) * 4);
    const view = new DataView(bytes.buffer);
    let offset = 0;
    for (const array of arrays) {
      for (const value of array) {
        view.setFloat32(offset, value, true);
        offset += 4;
      }
    }
    return {
      manifest: {
        format: MANIFEST_FORMAT,
        size: this.size,
        source: this.source,
        numClasses: this.numClasses,
        featureLength: this.featureLength,
        head: head.kind,
        hiddenUnits,
        weightsFile: WEIGHTS_FILE,
      },
      files: { [WEIGHTS_FILE]: bytes },
    };
  }

  static async deserialize(
    manifest: Record<string, unknown>,
    files: Record<string, Uint8Array>,
  ): Promise<ImageClassifier> {
    if (manifest.format !== MANIFEST_FORMAT && manifest.format !== HANDMADE_FORMAT) {
      throw new Error(`unsupported image model format: ${String(manifest.format)}`);
    }
    const source: ImageFeatureSource =
      manifest.format === HANDMADE_FORMAT
        ? { kind: 'handmade', size: manifest.size as number }
        : (manifest.source as ImageFeatureSource);
    const featureLength = manifest.featureLength as number;
    if (source.kind === 'handmade' && featureLength !== IMAGE_FEATURE_LENGTH) {
      throw new Error(
        `image model has ${String(manifest.featureLength)} features, this code extracts ${IMAGE_FEATURE_LENGTH}`,
      );
    }
    const bytes = files[WEIGHTS_FILE];
    if (!bytes) throw new Error(`image model file ${WEIGHTS_FILE} is missing`);
    const numClasses = manifest.numClasses as number;
    // Manifests written before the linear head have no `head`: they are MLPs.
    const linear = manifest.head === 'linear';
    const shapes = parameterShapes(featureLength, linear ? 0 : (manifest.hiddenUnits as number), numClasses);
    const total = shapes.reduce((s, shape) => s + shape.reduce((a, b) => a * b, 1), 0);
    if (bytes.byteLength !== total * 4) {
      throw new Error(
        `image model file ${WEIGHTS_FILE} has ${bytes.byteLength} bytes, expected ${total * 4}`,
      );
    }
    await initBackend();
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let offset = 0;
    const read = (shape: number[]): Float32Array => {
      const array = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) =>
        view.getFloat32(offset + i * 4, true),
      );
      offset += array.length * 4;
      return array;
    };
    const [mean, std, ...head] = shapes.map((shape) => ({ array: read(shape), shape }));
    const [hiddenKernel, hiddenBias, outputKernel, outputBias] = head;
    return new ImageClassifier(
      {
        mean: mean.array,
        std: std.array,
        head: linear
          ? { kind: 'linear', kernel: head[0].array, bias: head[1].array }
          : {
              kind: 'mlp',
              hiddenKernel: tf.tensor2d(hiddenKernel.array, hiddenKernel.shape as [number, number]),
              hiddenBias: tf.tensor1d(hiddenBias.array),
              outputKernel: tf.tensor2d(outputKernel.array, outputKernel.shape as [number, number]),
              outputBias: tf.tensor1d(outputBias.array),
            },
      },
      source,
      numClasses,
    );
  }

  dispose(): void {
    const { head } = this.params;
    if (head.kind === 'mlp') {
      [head.hiddenKernel, head.hiddenBias, head.outputKernel, head.outputBias].forEach((t) => t.dispose());
    }
  }
}
