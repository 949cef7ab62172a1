import { evaluateClassification } from '../evaluation/classification.metrics';
import { SeededRandom } from '../runtime/random';
import { initBackend, tf } from '../runtime/tf-backend';
import { registerWasmConvGradients } from './wasm-conv-grad.kernel';

export interface ImageClassifierOptions {
  seed: number;
  /** Side of the square RGB input; every pixel array must be size×size×3. Default 32. */
  size?: number;
  /** Most epochs; early stopping usually ends sooner. Default 40. */
  epochs?: number;
  /** Epochs without a better validation weighted F1 before stopping. Default 8. */
  patience?: number;
  /** Stop starting new epochs after this many seconds (the best weights so far are kept). Default: no limit. */
  maxSeconds?: number;
  batchSize?: number;
  learningRate?: number;
  /** Share of each class held out (stratified) for early stopping. Default 0.15. */
  validationFraction?: number;
  /** Channels of the conv blocks (3×3 conv + ReLU, 2×2 max pool each). Default [32, 64, 128]. */
  widths?: number[];
  /** Dropout rate on the pooled features. Default 0.3. */
  dropout?: number;
  /** Random flips and shifts of the training images. Default true. */
  augment?: boolean;
}

export interface EpochProgress {
  epoch: number;
  loss: number;
  valWeightedF1: number;
  seconds: number;
}

interface ResolvedOptions extends Required<Omit<ImageClassifierOptions, 'maxSeconds'>> {
  maxSeconds: number;
}

const MANIFEST_FORMAT = 'image-classifier/1';
const WEIGHTS_FILE = 'weights.bin';
const PREDICT_BATCH = 64;

function resolveOptions(options: ImageClassifierOptions): ResolvedOptions {
  return {
    seed: options.seed,
    size: options.size ?? 32,
    epochs: options.epochs ?? 40,
    patience: options.patience ?? 8,
    maxSeconds: options.maxSeconds ?? Infinity,
    batchSize: options.batchSize ?? 32,
    learningRate: options.learningRate ?? 0.003,
    validationFraction: options.validationFraction ?? 0.15,
    widths: options.widths ?? [32, 64, 128],
    dropout: options.dropout ?? 0.3,
    augment: options.augment ?? true,
  };
}

/**
 * A small CNN trained from scratch (no pretrained weights are available). The last layer is a separate softmax
 * activation so that training can read the logits, and dropout is applied by the training loop with our own
 * seeded masks: a seeded tf.layers.dropout reuses one mask for every batch.
 */
function buildModel(size: number, numClasses: number, o: ResolvedOptions, rng: SeededRandom): tf.Sequential {
  const model = tf.sequential();
  o.widths.forEach((filters, i) => {
    model.add(
      tf.layers.conv2d({
        ...(i === 0 ? { inputShape: [size, size, 3] } : {}),
        filters,
        kernelSize: 3,
        padding: 'same',
        activation: 'relu',
        kernelInitializer: tf.initializers.heNormal({ seed: rng.fork() }),
      }),
    );
    model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  });
  model.add(tf.layers.globalAveragePooling2d({}));
  model.add(
    tf.layers.dense({
      units: numClasses,
      kernelInitializer: tf.initializers.glorotUniform({ seed: rng.fork() }),
    }),
  );
  model.add(tf.layers.activation({ activation: 'softmax' }));
  return model;
}

/** Scales bytes to [-1, 1]; `flip`/`dx`/`dy` copy a mirrored, shifted view with edges clamped. */
function fillImage(
  target: Float32Array,
  offset: number,
  pixels: Uint8Array,
  size: number,
  flip = false,
  dx = 0,
  dy = 0,
): void {
  for (let y = 0; y < size; y++) {
    const sy = Math.min(size - 1, Math.max(0, y + dy));
    for (let x = 0; x < size; x++) {
      const mx = flip ? size - 1 - x : x;
      const sx = Math.min(size - 1, Math.max(0, mx + dx));
      const src = (sy * size + sx) * 3;
      const dst = offset + (y * size + x) * 3;
      target[dst] = pixels[src] / 127.5 - 1;
      target[dst + 1] = pixels[src + 1] / 127.5 - 1;
      target[dst + 2] = pixels[src + 2] / 127.5 - 1;
    }
  }
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

function argmaxRows(proba: Float32Array, numClasses: number): number[] {
  const out: number[] = [];
  for (let r = 0; r * numClasses < proba.length; r++) {
    let best = 0;
    for (let c = 1; c < numClasses; c++) {
      if (proba[r * numClasses + c] > proba[r * numClasses + best]) best = c;
    }
    out.push(best);
  }
  return out;
}

export class ImageClassifier {
  private constructor(
    private readonly model: tf.LayersModel,
    readonly size: number,
    readonly numClasses: number,
  ) {}

  static async train(
    pixels: Uint8Array[],
    labels: number[],
    numClasses: number,
    options: ImageClassifierOptions,
    onEpoch?: (progress: EpochProgress) => void,
  ): Promise<ImageClassifier> {
    if (pixels.length !== labels.length) throw new Error('pixels and labels differ in length');
    if (pixels.length === 0) throw new Error('no training images');
    const o = resolveOptions(options);
    checkPixels(pixels, o.size);
    await initBackend();
    registerWasmConvGradients();

    const rng = new SeededRandom(o.seed);
    const { train, val } = stratifiedSplit(labels, o.validationFraction, rng);
    const model = buildModel(o.size, numClasses, o, rng);
    const classifier = new ImageClassifier(model, o.size, numClasses);
    const optimizer = tf.train.adam(o.learningRate);
    const trainable = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const head = model.layers[model.layers.length - 2];
    const featureCount = o.widths[o.widths.length - 1];
    const pixelCount = o.size * o.size * 3;
    const maxShift = Math.floor(o.size / 8);
    const classes = Array.from({ length: numClasses }, (_, c) => c);

    let best = { f1: -1, weights: [] as tf.Tensor[] };
    let sinceBest = 0;
    const started = Date.now();
    for (let epoch = 1; epoch <= o.epochs; epoch++) {
      const order = rng.shuffle([...train]);
      let lossSum = 0;
      for (let start = 0; start < order.length; start += o.batchSize) {
        const batch = order.slice(start, start + o.batchSize);
        const input = new Float32Array(batch.length * pixelCount);
        batch.forEach((row, b) => {
          if (o.augment) {
            const flip = rng.next() < 0.5;
            const dx = rng.int(2 * maxShift + 1) - maxShift;
            const dy = rng.int(2 * maxShift + 1) - maxShift;
            fillImage(input, b * pixelCount, pixels[row], o.size, flip, dx, dy);
          } else fillImage(input, b * pixelCount, pixels[row], o.size);
        });
        const mask = new Float32Array(batch.length * featureCount);
        const keepProb = 1 - o.dropout;
        for (let i = 0; i < mask.length; i++) mask[i] = rng.next() < keepProb ? 1 / keepProb : 0;

        const loss = tf.tidy(() => {
          const x = tf.tensor4d(input, [batch.length, o.size, o.size, 3]);
          const y = tf.oneHot(
            tf.tensor1d(
              batch.map((row) => labels[row]),
              'int32',
            ),
            numClasses,
          );
          const dropMask = tf.tensor2d(mask, [batch.length, featureCount]);
          return optimizer.minimize(
            () => {
              let h: tf.Tensor = x;
              for (const layer of model.layers) {
                if (layer === head) h = tf.mul(h, dropMask);
                h = layer.apply(h, { training: true }) as tf.Tensor;
                if (layer === head) break;
              }
              return tf.losses.softmaxCrossEntropy(y, h, undefined, 0.1);
            },
            true,
            trainable,
          ) as tf.Scalar;
        });
        lossSum += (await loss.data())[0] * batch.length;
        loss.dispose();
      }

      const valF1 = classifier.weightedF1(
        val.map((i) => pixels[i]),
        val.map((i) => labels[i]),
        classes,
      );
      if (valF1 > best.f1) {
        best.weights.forEach((w) => w.dispose());
        best = { f1: valF1, weights: model.getWeights().map((w) => w.clone()) };
        sinceBest = 0;
      } else sinceBest++;
      const seconds = (Date.now() - started) / 1000;
      onEpoch?.({ epoch, loss: lossSum / order.length, valWeightedF1: valF1, seconds });
      if (sinceBest >= o.patience || seconds >= o.maxSeconds || val.length === 0) break;
    }
    model.setWeights(best.weights);
    best.weights.forEach((w) => w.dispose());
    optimizer.dispose();
    return classifier;
  }

  private weightedF1(pixels: Uint8Array[], labels: number[], classes: number[]): number {
    if (pixels.length === 0) return 0;
    const predicted = argmaxRows(this.predictProba(pixels), this.numClasses);
    return evaluateClassification(labels, predicted, classes).weighted_f1;
  }

  /** Class probabilities, row-major n × numClasses. */
  predictProba(pixels: Uint8Array[]): Float32Array {
    checkPixels(pixels, this.size);
    const pixelCount = this.size * this.size * 3;
    const out = new Float32Array(pixels.length * this.numClasses);
    for (let start = 0; start < pixels.length; start += PREDICT_BATCH) {
      const chunk = pixels.slice(start, start + PREDICT_BATCH);
      const input = new Float32Array(chunk.length * pixelCount);
      chunk.forEach((p, i) => fillImage(input, i * pixelCount, p, this.size));
      const proba = tf.tidy(() => {
        const x = tf.tensor4d(input, [chunk.length, this.size, this.size, 3]);
        return this.model.predict(x, { batchSize: PREDICT_BATCH }) as tf.Tensor;
      });
      out.set(proba.dataSync() as Float32Array, start * this.numClasses);
      proba.dispose();
    }
    return out;
  }

  async serialize(): Promise<{ manifest: Record<string, unknown>; files: Record<string, Uint8Array> }> {
    let artifacts: tf.io.ModelArtifacts | undefined;
    await this.model.save(
      tf.io.withSaveHandler(async (a) => {
        artifacts = a;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    if (!artifacts?.weightData || !artifacts.weightSpecs) throw new Error('model produced no weights');
    const weights = tf.io.CompositeArrayBuffer.join(artifacts.weightData);
    return {
      manifest: {
        format: MANIFEST_FORMAT,
        size: this.size,
        numClasses: this.numClasses,
        modelTopology: artifacts.modelTopology,
        weightSpecs: artifacts.weightSpecs,
        weightsFile: WEIGHTS_FILE,
      },
      files: { [WEIGHTS_FILE]: new Uint8Array(weights) },
    };
  }

  static async deserialize(
    manifest: Record<string, unknown>,
    files: Record<string, Uint8Array>,
  ): Promise<ImageClassifier> {
    if (manifest.format !== MANIFEST_FORMAT) {
      throw new Error(`unsupported image model format: ${String(manifest.format)}`);
    }
    const bytes = files[WEIGHTS_FILE];
    if (!bytes) throw new Error(`image model file ${WEIGHTS_FILE} is missing`);
    await initBackend();
    const weightData = bytes.buffer.slice(
      bytes.byteOffset,
      bytes.byteOffset + bytes.byteLength,
    ) as ArrayBuffer;
    const model = await tf.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: manifest.modelTopology as object,
        weightSpecs: manifest.weightSpecs as tf.io.WeightsManifestEntry[],
        weightData,
      }),
    );
    return new ImageClassifier(model, manifest.size as number, manifest.numClasses as number);
  }

  dispose(): void {
    this.model.dispose();
  }
}
