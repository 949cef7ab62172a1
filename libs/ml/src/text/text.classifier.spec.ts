import { SeededRandom } from '../runtime/random.util';
import { tf } from '../runtime/tf-backend.setup';
import { QuantizedRows } from './sparse-rows.util';
import { TextFeatureExtractor, type ProductText, type TextFeatureParams } from './text-features.extractor';
import { TextClassifier } from './text.classifier';
import { tfjsProbabilities } from './text-network.trainer';
import { runNow } from '../runtime/sliced-work.util';

const VOCABULARY = [
  ['piscine', 'pompe', 'filtre', 'bache', 'chlore', 'spa'],
  ['manette', 'console', 'jeu', 'ps4', 'xbox', 'cartouche'],
  ['roman', 'livre', 'auteur', 'edition', 'poche', 'tome'],
];

/** Made-up product texts: each class draws from its own words plus shared filler. */
function dataset(perClass: number): {
  texts: { designation: string; description: string }[];
  labels: number[];
} {
  const texts: { designation: string; description: string }[] = [];
  const labels: number[] = [];
  let k = 0;
  for (let i = 0; i < perClass; i++) {
    VOCABULARY.forEach((words, label) => {
      const pick = (offset: number) => words[(i + offset + k++) % words.length];
      texts.push({
        designation: `${pick(0)} ${pick(2)} neuf`,
        description: i % 2 ? `${pick(1)} qualite` : '',
      });
      labels.push(label);
    });
  }
  return { texts, labels };
}

const options = { seed: 1, hidden: 16, epochs: 8, patience: 8, features: { hashBits: 14 } };

/** Texts the model has not seen: random mixes of every class's words, a word it never saw, and edge cases. */
function probes(count: number): ProductText[] {
  const rng = new SeededRandom(9);
  const words = [...VOCABULARY.flat(), 'neuf', 'qualite', 'inconnu', 'Élégant', '2019', 'x'];
  const pick = (n: number) => Array.from({ length: n }, () => words[rng.int(words.length)]).join(' ');
  return [
    { designation: '', description: '' },
    { designation: 'zzz', description: '' },
    ...Array.from({ length: count }, (_, i) => ({
      designation: pick(1 + (i % 5)),
      description: pick(i % 7),
    })),
  ];
}

/**
 * The reference: the model's saved weights through TF.js, as predictions were computed before inference moved to
 * TypeScript (rows from transform, float32 sparse sums, the head as TF.js ops).
 */
function referenceProba(model: TextClassifier, texts: ProductText[]): Float32Array {
  const { manifest, files } = model.serialize();
  const f32 = (name: string) => new Float32Array(files[name].slice().buffer);
  const extractor = TextFeatureExtractor.fromFiles(manifest.features as TextFeatureParams, files);
  const hidden = (manifest.options as { hidden: number }).hidden;
  const numClasses = model.numClasses;
  return tf.tidy(() =>
    tfjsProbabilities(
      extractor.transform(texts),
      new QuantizedRows(files['sparse.q8'].slice(), hidden + numClasses).dequantize(),
      {
        bias1: tf.tensor1d(f32('bias1.f32')),
        kernel2: tf.tensor2d(f32('kernel2.f32'), [hidden, numClasses]),
        bias2: tf.tensor1d(f32('bias2.f32')),
      },
      hidden,
      numClasses,
    ),
  );
}

function maxAbsDifference(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  return a.reduce((max, value, i) => Math.max(max, Math.abs(value - b[i])), 0);
}

describe('TextClassifier', () => {
  const { texts, labels } = dataset(40);
  let model: TextClassifier;

  beforeAll(async () => {
    model = await TextClassifier.train(texts, labels, 3, options);
  });

  it('learns the classes and reports progress per epoch', async () => {
    const progress: { epoch: number; loss: number; valWeightedF1: number; seconds: number }[] = [];
    await TextClassifier.train(texts, labels, 3, options, (p) => progress.push(p));
    expect(progress.length).toBeGreaterThan(0);
    expect(progress[0]).toEqual({
      epoch: 1,
      loss: expect.any(Number),
      valWeightedF1: expect.any(Number),
      seconds: expect.any(Number),
    });
    expect(Math.max(...progress.map((p) => p.valWeightedF1))).toBeGreaterThan(0.9);

    const probs = model.predictProba([
      { designation: 'pompe piscine', description: '' },
      { designation: 'manette xbox', description: '' },
      { designation: 'livre de poche', description: 'roman' },
    ]);
    expect(probs.length).toBe(9);
    [0, 1, 2].forEach((row) => {
      const p = Array.from(probs.subarray(row * 3, row * 3 + 3));
      expect(p.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
      expect(p.indexOf(Math.max(...p))).toBe(row);
    });
  });

  it('is reproducible for a seed', async () => {
    const again = await TextClassifier.train(texts, labels, 3, options);
    expect(again.predictProba(texts.slice(0, 5))).toEqual(model.predictProba(texts.slice(0, 5)));
  });

  it('predicts single items, empty fields and empty batches', () => {
    for (const item of [
      { designation: '', description: '' },
      { designation: 'spa', description: '' },
      { designation: '', description: 'tome 2' },
    ]) {
      const p = model.predictProba([item]);
      expect(p.length).toBe(3);
      expect(p.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
    }
    expect(model.predictProba([]).length).toBe(0);
  });

  it('round-trips through serialize/deserialize with identical probabilities', async () => {
    const { manifest, files } = model.serialize();
    const restored = runNow(TextClassifier.deserialize(JSON.parse(JSON.stringify(manifest)), files));
    expect(restored.predictProba(texts)).toEqual(model.predictProba(texts));
  });

  it('predicts in TypeScript what the TF.js head predicts, within 1e-5 on every item', () => {
    const items = [...texts, ...probes(300)];
    const fast = model.predictProba(items);
    const reference = referenceProba(model, items);
    expect(maxAbsDifference(fast, reference)).toBeLessThan(1e-5);
    // One at a time, as a single request is served, gives the batch's answer.
    items.slice(0, 20).forEach((item, n) => {
      expect(Array.from(model.predictProba([item]))).toEqual(Array.from(fast.subarray(n * 3, n * 3 + 3)));
    });
  });

  it('writes its sparse layers quantized, and refuses old or damaged files', () => {
    const { manifest, files } = model.serialize();
    const width = options.hidden + 3;
    const { 'sparse.q8': quantized, ...rest } = files;
    const rows = quantized.byteLength / QuantizedRows.strideOf(width);
    // A quarter of the float32 table, plus a scale per row.
    expect(quantized.byteLength).toBeLessThan(rows * width * 4 * 0.35);
    expect(manifest.format).toBe('text-classifier/3');
    expect(Object.keys(files).sort()).toEqual([
      'bias1.f32',
      'bias2.f32',
      'feature-buckets.i32',
      'feature-idf.f32',
      'kernel2.f32',
      'sparse.q8',
    ]);
    expect(() =>
      runNow(TextClassifier.deserialize(manifest, { ...rest, 'sparse.q8': new Uint8Array(96) })),
    ).toThrow(/does not match/);
    // The float32 formats of earlier sessions are no longer read: nothing writes or stores them any more.
    for (const format of ['text-classifier/1', 'text-classifier/2', 'text-classifier/9']) {
      expect(() => runNow(TextClassifier.deserialize({ ...manifest, format }, files))).toThrow(
        /Unknown text model format/,
      );
    }
  });
});
