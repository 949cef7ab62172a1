import { LINEAR_VIEWS, LinearSvmClassifier } from './linear-svm.classifier';
import { runNow } from '../runtime/sliced-work.util';

const VOCABULARY = [
  ['livre', 'roman', 'poche', 'auteur', 'edition'],
  ['piscine', 'pompe', 'filtre', 'bache', 'liner'],
  ['table', 'chaise', 'armoire', 'bois', 'commode'],
];

function dataset(seed: number) {
  const texts: { designation: string; description: string }[] = [];
  const labels: number[] = [];
  VOCABULARY.forEach((words, label) => {
    for (let i = 0; i < 20; i++) {
      texts.push({
        designation: `${words[(i + seed) % 5]} ${words[(i + 2) % 5]} ref ${i}`,
        description: i % 2 ? `tres bon etat ${words[(i + 3) % 5]}` : '',
      });
      labels.push(label);
    }
  });
  return { texts, labels };
}

describe('LinearSvmClassifier', () => {
  const { texts, labels } = dataset(0);
  const model = LinearSvmClassifier.train(texts, labels, 3, { seed: 1 });

  it('learns to separate the classes and returns distributions', () => {
    const probabilities = model.predictProba([
      { designation: 'roman de poche', description: '' },
      { designation: 'bache pour piscine', description: '' },
      { designation: '', description: 'une commode en bois' },
    ]);
    const rows = [0, 1, 2].map((n) => Array.from(probabilities.subarray(n * 3, n * 3 + 3)));
    rows.forEach((row, expected) => {
      expect(row.reduce((s, p) => s + p, 0)).toBeCloseTo(1, 5);
      expect(row.indexOf(Math.max(...row))).toBe(expected);
    });
  });

  it('is reproducible for a seed and round-trips through serialisation', () => {
    const again = LinearSvmClassifier.train(texts, labels, 3, { seed: 1 });
    const probe = [{ designation: 'chaise livre pompe', description: 'bois' }];
    expect(Array.from(again.predictProba(probe))).toEqual(Array.from(model.predictProba(probe)));
    const { manifest, files } = model.serialize();
    const restored = runNow(LinearSvmClassifier.deserialize(JSON.parse(JSON.stringify(manifest)), files));
    expect(Array.from(restored.predictProba(probe))).toEqual(Array.from(model.predictProba(probe)));
  });

  it('refuses weights that do not fit the features', () => {
    const { manifest, files } = model.serialize();
    expect(() =>
      runNow(LinearSvmClassifier.deserialize(manifest, { ...files, 'weights.q8': new Uint8Array(8) })),
    ).toThrow(/does not match/);
  });

  it('refuses a format it does not write or read (the float32 linear-svm/2 is no longer read)', () => {
    const { manifest, files } = model.serialize();
    for (const format of ['linear-svm/2', 'linear-svm/9']) {
      expect(() => runNow(LinearSvmClassifier.deserialize({ ...manifest, format }, files))).toThrow(
        /Unknown linear model format/,
      );
    }
  });
});

describe('LinearSvmClassifier intercepts', () => {
  it('loads a linear-svm/3 model, written before intercepts, as a model without them', () => {
    const { texts, labels } = dataset(0);
    const plain = LinearSvmClassifier.train(texts, labels, 3, { seed: 1, bias: 0 });
    const { manifest, files } = plain.serialize();
    const { 'intercepts.f32': _intercepts, ...older } = files;
    const restored = runNow(LinearSvmClassifier.deserialize({ ...manifest, format: 'linear-svm/3' }, older));
    const probe = [{ designation: 'chaise livre pompe', description: 'bois' }];
    expect(Array.from(restored.predictProba(probe))).toEqual(Array.from(plain.predictProba(probe)));
  });

  it('answers the most frequent class for a listing with no known term, unless it has no intercept', () => {
    const texts = [
      ...Array.from({ length: 30 }, (_, i) => ({ designation: `livre roman ${i}`, description: '' })),
      ...Array.from({ length: 10 }, (_, i) => ({ designation: `piscine pompe ${i}`, description: '' })),
    ];
    const labels = texts.map((_, i) => (i < 30 ? 1 : 0));
    const unknown = [{ designation: 'zzz', description: '' }];
    const [other, frequent] = LinearSvmClassifier.train(texts, labels, 2, { seed: 1 }).predictProba(unknown);
    expect(frequent).toBeGreaterThan(other);
    const flat = LinearSvmClassifier.train(texts, labels, 2, { seed: 1, bias: 0 }).predictProba(unknown);
    expect(flat[0]).toBeCloseTo(flat[1], 6);
  });
});

describe('LinearSvmClassifier views', () => {
  it('builds its features from the view it is given, not from the default view', () => {
    const { texts, labels } = dataset(1);
    const merged = LinearSvmClassifier.train(texts, labels, 3, { seed: 1, features: LINEAR_VIEWS.merged });
    const blocked = LinearSvmClassifier.train(texts, labels, 3, { seed: 1, features: LINEAR_VIEWS.blocked });
    const featuresOf = (model: LinearSvmClassifier) =>
      (model.serialize().manifest.features as { options: { mergedFields: boolean } }).options.mergedFields;
    expect(featuresOf(merged)).toBe(true);
    expect(featuresOf(blocked)).toBe(false);
  });
});
