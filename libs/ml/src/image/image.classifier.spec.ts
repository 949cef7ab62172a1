import { SeededRandom } from '../runtime/random.util';
import { ImageClassifier, ImageClassifierOptions } from './image.classifier';

const SIZE = 16;

/** Class 0: reddish, 1: bluish, 2: black and white horizontal stripes; with per-pixel noise. */
function syntheticImage(label: number, rng: SeededRandom): Uint8Array {
  const pixels = new Uint8Array(SIZE * SIZE * 3);
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      const base =
        label === 0
          ? [220, 40, 40]
          : label === 1
            ? [40, 40, 220]
            : y % 4 < 2
              ? [240, 240, 240]
              : [20, 20, 20];
      for (let c = 0; c < 3; c++) {
        pixels[(y * SIZE + x) * 3 + c] = Math.max(0, Math.min(255, base[c] + Math.round(rng.normal() * 25)));
      }
    }
  }
  return pixels;
}

function dataset(n: number, seed: number): { pixels: Uint8Array[]; labels: number[] } {
  const rng = new SeededRandom(seed);
  const labels = Array.from({ length: n }, (_, i) => i % 3);
  return { pixels: labels.map((l) => syntheticImage(l, rng)), labels };
}

function argmaxRows(proba: Float32Array, k: number): number[] {
  return Array.from({ length: proba.length / k }, (_, r) => {
    const row = Array.from(proba.subarray(r * k, (r + 1) * k));
    return row.indexOf(Math.max(...row));
  });
}

describe.each(['linear', 'mlp'] as const)('ImageClassifier, %s head', (head) => {
  const options: ImageClassifierOptions = { seed: 7, size: SIZE, epochs: 15, patience: 15, head };
  const train = dataset(60, 1);
  const test = dataset(30, 2);
  let model: ImageClassifier;
  const progress: { epoch: number; loss: number; valWeightedF1: number; seconds: number }[] = [];

  beforeAll(async () => {
    model = await ImageClassifier.train(train.pixels, train.labels, 3, options, (p) => progress.push(p));
  });

  afterAll(() => model.dispose());

  it('learns colours and stripes, reporting progress as it trains', () => {
    const proba = model.predictProba(test.pixels);
    expect(proba).toHaveLength(30 * 3);
    const predicted = argmaxRows(proba, 3);
    const accuracy = predicted.filter((p, i) => p === test.labels[i]).length / test.labels.length;
    expect(accuracy).toBeGreaterThanOrEqual(0.9);
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.map((p) => p.epoch)).toEqual([...progress.map((p) => p.epoch)].sort((a, b) => a - b));
    expect(Math.max(...progress.map((p) => p.valWeightedF1))).toBeGreaterThan(0.8);
    expect(progress.every((p) => Number.isFinite(p.loss) && p.seconds >= 0)).toBe(true);
  });

  it('is reproducible for a seed', async () => {
    const again = await ImageClassifier.train(train.pixels, train.labels, 3, options);
    expect(Array.from(again.predictProba(test.pixels))).toEqual(Array.from(model.predictProba(test.pixels)));
    again.dispose();
  });

  it('round-trips through serialize and deserialize', async () => {
    const { manifest, files } = await model.serialize();
    expect(manifest.head).toBe(head);
    const json = JSON.parse(JSON.stringify(manifest)) as Record<string, unknown>;
    const restored = await ImageClassifier.deserialize(json, files);
    expect(restored.size).toBe(SIZE);
    expect(Array.from(restored.predictProba(test.pixels))).toEqual(
      Array.from(model.predictProba(test.pixels)),
    );
    restored.dispose();
  });

  it('rejects pixel arrays of the wrong size', () => {
    expect(() => model.predictProba([new Uint8Array(10)])).toThrow(/expected 16×16×3/);
  });
});

describe('ImageClassifier MLP head, early stopping', () => {
  it('keeps training past a perfect first epoch instead of keeping its barely trained weights', async () => {
    const size = 32;
    const colours = [
      [220, 20, 20],
      [20, 40, 230],
      [30, 200, 30],
    ];
    const flat = (rgb: number[], shade: number) =>
      Uint8Array.from({ length: size * size * 3 }, (_, i) => rgb[i % 3] + shade);
    const pixels = colours.flatMap((rgb) => Array.from({ length: 30 }, (_, i) => flat(rgb, (i % 21) - 10)));
    const labels = colours.flatMap((_, label) => Array(30).fill(label) as number[]);
    const history: number[] = [];
    const model = await ImageClassifier.train(pixels, labels, 3, { seed: 3, size, head: 'mlp' }, (p) =>
      history.push(p.valWeightedF1),
    );
    expect(history[0]).toBe(1);
    const probabilities = model.predictProba(colours.map((rgb) => flat(rgb, 0)));
    colours.forEach((_, label) => expect(probabilities[label * 3 + label]).toBeGreaterThan(0.8));
    model.dispose();
  });
});
