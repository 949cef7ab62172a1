import { SeededRandom } from '../runtime/random.util';
import { tf } from '../runtime/tf-backend.setup';
import { QuantizedRows } from './sparse-rows.util';
import { TextEnsemble } from './text-ensemble.classifier';
import { TextFeatureExtractor, type ProductText, type TextFeatureParams } from './text-features.extractor';
import { tfjsProbabilities } from './text-network.trainer';

const VOCABULARY = [
  ['piscine', 'pompe', 'filtre', 'bache', 'chlore', 'spa'],
  ['manette', 'console', 'jeu', 'ps4', 'xbox', 'cartouche'],
  ['roman', 'livre', 'auteur', 'edition', 'poche', 'tome'],
  ['table', 'chaise', 'armoire', 'bois', 'commode', 'tabouret'],
];
const FILLER = ['neuf', 'qualite', 'lot', 'de', 'pour', 'Élégant', 'réf', '2019', '3760123456789'];

function randomTexts(count: number, seed: number): { texts: ProductText[]; labels: number[] } {
  const rng = new SeededRandom(seed);
  const texts: ProductText[] = [];
  const labels: number[] = [];
  for (let i = 0; i < count; i++) {
    const label = i % VOCABULARY.length;
    // Mostly words of the item's class, some filler and some words of other classes.
    const word = () => {
      const r = rng.next();
      const words = r < 0.65 ? VOCABULARY[label] : r < 0.85 ? FILLER : VOCABULARY[rng.int(VOCABULARY.length)];
      return words[rng.int(words.length)];
    };
    const words = (n: number) => Array.from({ length: n }, word).join(' ');
    texts.push({
      designation: words(2 + rng.int(4)),
      description: rng.next() < 0.6 ? words(rng.int(12)) : '',
    });
    labels.push(label);
  }
  return { texts, labels };
}

type Component = { manifest: Record<string, unknown>; files: Record<string, Uint8Array> };

const f32 = (bytes: Uint8Array) => new Float32Array(bytes.slice().buffer);
/** A quantized table's weights as the model computes with them. */
const dequantized = (bytes: Uint8Array, width: number) =>
  new QuantizedRows(bytes.slice(), width).dequantize();

/** A network's probabilities as they were computed before: rows from transform, then TF.js. */
function neuralReference({ manifest, files }: Component, texts: ProductText[]): Float32Array {
  const extractor = TextFeatureExtractor.fromFiles(manifest.features as TextFeatureParams, files);
  const hidden = (manifest.options as { hidden: number }).hidden;
  const numClasses = manifest.numClasses as number;
  return tf.tidy(() =>
    tfjsProbabilities(
      extractor.transform(texts),
      dequantized(files['sparse.q8'], hidden + numClasses),
      {
        bias1: tf.tensor1d(f32(files['bias1.f32'])),
        kernel2: tf.tensor2d(f32(files['kernel2.f32']), [hidden, numClasses]),
        bias2: tf.tensor1d(f32(files['bias2.f32'])),
      },
      hidden,
      numClasses,
    ),
  );
}

/** A linear model's probabilities as they were computed before: float32 margins plus intercepts, scaled, softmax. */
function linearReference({ manifest, files }: Component, texts: ProductText[]): Float32Array {
  const extractor = TextFeatureExtractor.fromFiles(manifest.features as TextFeatureParams, files);
  const numClasses = manifest.numClasses as number;
  const temperature = (manifest.options as { temperature: number }).temperature;
  const weights = dequantized(files['weights.q8'], numClasses);
  const intercepts = f32(files['intercepts.f32']);
  const out = new Float32Array(texts.length * numClasses);
  extractor.transform(texts).forEach(({ indices, values }, n) => {
    const scores = out.subarray(n * numClasses, (n + 1) * numClasses);
    scores.set(intercepts);
    indices.forEach((feature, k) => {
      for (let c = 0; c < numClasses; c++) scores[c] += values[k] * weights[feature * numClasses + c];
    });
    let max = -Infinity;
    for (let c = 0; c < numClasses; c++) max = Math.max(max, (scores[c] *= temperature));
    let sum = 0;
    for (let c = 0; c < numClasses; c++) sum += scores[c] = Math.exp(scores[c] - max);
    for (let c = 0; c < numClasses; c++) scores[c] /= sum;
  });
  return out;
}

describe('TextEnsemble', () => {
  const train = randomTexts(240, 1);
  let ensemble: TextEnsemble;

  beforeAll(async () => {
    ensemble = await TextEnsemble.train(
      train.texts,
      train.labels,
      VOCABULARY.length,
      {
        seed: 4,
        neuralModels: 2,
        neuralMaxRows: 200,
        linearViews: ['listing', 'blocked'],
        linearVote: 0.6,
        neural: { hidden: 16, epochs: 6, patience: 6 },
      },
      () => undefined,
    );
  });

  const items = [
    ...train.texts,
    ...randomTexts(300, 2).texts,
    { designation: '', description: '' },
    { designation: 'inconnu', description: 'jamais vu' },
  ];

  /** The answer the components' models give through transform and TF.js, weighted as `share` says. */
  function reference(
    components: ReturnType<TextEnsemble['serialize']>,
    share: (kind: 'linear' | 'neural') => number,
  ): Float32Array {
    const out = new Float32Array(items.length * VOCABULARY.length);
    for (const [name, component] of Object.entries(components)) {
      const linear = name.startsWith('text-linear-');
      const votes = linear ? linearReference(component, items) : neuralReference(component, items);
      const weight = share(linear ? 'linear' : 'neural');
      votes.forEach((p, i) => (out[i] += p * weight));
    }
    return out;
  }

  function largestDifference(a: Float32Array, b: Float32Array): number {
    expect(a.length).toBe(b.length);
    let largest = 0;
    a.forEach((p, i) => (largest = Math.max(largest, Math.abs(p - b[i]))));
    return largest;
  }

  it('answers the weighted mean of what its models predict through transform and TF.js, within 1e-5', () => {
    const components = ensemble.serialize();
    const names = Object.keys(components);
    expect(names.filter((name) => name.startsWith('text-neural-')).length).toBe(2);
    expect(names.filter((name) => name.startsWith('text-linear-')).length).toBe(2);
    // The linear models share 0.6 of the answer, the networks the rest.
    const expected = reference(components, (kind) => (kind === 'linear' ? 0.3 : 0.2));
    expect(largestDifference(ensemble.predictProba(items), expected)).toBeLessThan(1e-5);
  });

  it('gives each vote an equal share when its components were saved without weights', async () => {
    const components = ensemble.serialize();
    for (const component of Object.values(components)) delete component.manifest.vote;
    const restored = await TextEnsemble.deserialize(components);
    // Two linear votes and the networks' mean: a third each.
    const expected = reference(components, (kind) => (kind === 'linear' ? 1 / 3 : 1 / 6));
    expect(largestDifference(restored.predictProba(items), expected)).toBeLessThan(1e-5);

    const mixed = ensemble.serialize();
    delete mixed['text-neural-0'].manifest.vote;
    await expect(TextEnsemble.deserialize(mixed)).rejects.toThrow(/votes/);
  });

  it('answers a text alone as it does within a batch, and round-trips through its components', async () => {
    const items = randomTexts(40, 3).texts;
    const batch = ensemble.predictProba(items);
    items.forEach((item, n) => {
      expect(Array.from(ensemble.predictProba([item]))).toEqual(Array.from(batch.subarray(n * 4, n * 4 + 4)));
    });
    const restored = await TextEnsemble.deserialize(ensemble.serialize());
    expect(restored.predictProba(items)).toEqual(batch);
    expect(ensemble.predictProba([]).length).toBe(0);
  });

  it('predicts the same after consuming its files, whose weight tables are then emptied', async () => {
    const items = randomTexts(40, 4).texts;
    const components = ensemble.serialize();
    const restored = await TextEnsemble.deserialize(components, { consumeFiles: true });
    expect(restored.predictProba(items)).toEqual(ensemble.predictProba(items));
    expect(components['text-neural-0'].files['sparse.q8'].length).toBe(0);
    expect(components['text-linear-0'].files['weights.q8'].length).toBe(0);
    expect(components['text-neural-0'].files['bias1.f32'].length).toBeGreaterThan(0);
  });
});
