import { TextClassifier } from './text.classifier';

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

describe('TextClassifier', () => {
  const { texts, labels } = dataset(40);
  let model: TextClassifier;

  beforeAll(async () => {
    model = await TextClassifier.train(texts, labels, 3, options);
  });
  afterAll(() => model.dispose());

  it('learns the classes and reports progress per epoch', async () => {
    const progress: { epoch: number; loss: number; valWeightedF1: number; seconds: number }[] = [];
    const tracked = await TextClassifier.train(texts, labels, 3, options, (p) => progress.push(p));
    tracked.dispose();
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
    again.dispose();
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
    const restored = await TextClassifier.deserialize(JSON.parse(JSON.stringify(manifest)), files);
    expect(restored.predictProba(texts)).toEqual(model.predictProba(texts));
    restored.dispose();
  });
});
