import { SeededRandom } from '../runtime/random.util';
import { initBackend } from '../runtime/tf-backend.setup';
import { fitLogisticRegression, linearProbabilities } from './logistic-regression.classifier';

/** Three overlapping Gaussian clouds in 4 dimensions: no perfect separation, so the optimum is finite. */
function clouds(n: number, seed: number): { rows: Float32Array[]; labels: number[] } {
  const rng = new SeededRandom(seed);
  const centres = [
    [1, 0, 0, 0.5],
    [0, 1, 0, -0.5],
    [0, 0, 1, 0],
  ];
  const labels = Array.from({ length: n }, (_, i) => i % 3);
  const rows = labels.map((l) => Float32Array.from(centres[l], (c) => c + rng.normal()));
  return { rows, labels };
}

/** Gradient of scikit-learn's objective divided by C·n at `weights`, computed from the predicted probabilities. */
function gradient(
  rows: Float32Array[],
  labels: number[],
  c: number,
  kernel: Float32Array,
  bias: Float32Array,
) {
  const classes = bias.length;
  const p = linearProbabilities(rows, { kernel, bias });
  const n = rows.length;
  const gKernel = Array.from(kernel, (w) => w / (c * n));
  const gBias = new Array<number>(classes).fill(0);
  rows.forEach((x, i) => {
    for (let k = 0; k < classes; k++) {
      const r = (p[i * classes + k] - (labels[i] === k ? 1 : 0)) / n;
      gBias[k] += r;
      x.forEach((v, j) => (gKernel[j * classes + k] += v * r));
    }
  });
  return [...gKernel, ...gBias];
}

describe('fitLogisticRegression', () => {
  const { rows, labels } = clouds(300, 1);

  beforeAll(() => initBackend());

  it('reaches the optimum of the penalised objective (zero gradient)', () => {
    const { kernel, bias } = fitLogisticRegression(rows, labels, 3, {
      c: 0.1,
      maxIterations: 500,
      tolerance: 1e-7,
    });
    const g = gradient(rows, labels, 0.1, kernel, bias);
    expect(Math.max(...g.map(Math.abs))).toBeLessThan(1e-4);
    expect(Math.max(...Array.from(kernel, Math.abs))).toBeGreaterThan(0.05);
  });

  it('shrinks the weights as C falls, and classifies the clouds better than chance', () => {
    const norm = (c: number) => {
      const { kernel } = fitLogisticRegression(rows, labels, 3, { c, maxIterations: 500, tolerance: 1e-7 });
      return Math.hypot(...kernel);
    };
    expect(norm(0.001)).toBeLessThan(norm(1));
    const weights = fitLogisticRegression(rows, labels, 3, { c: 1, maxIterations: 500, tolerance: 1e-7 });
    const test = clouds(150, 2);
    const p = linearProbabilities(test.rows, weights);
    const correct = test.labels.filter((l, i) => {
      const row = Array.from(p.subarray(i * 3, i * 3 + 3));
      return row.indexOf(Math.max(...row)) === l;
    }).length;
    expect(correct / test.labels.length).toBeGreaterThan(0.6);
  });

  it('starts from given weights, ending where a cold start ends', () => {
    const options = { c: 0.1, maxIterations: 500, tolerance: 1e-7 };
    const cold = fitLogisticRegression(rows, labels, 3, options);
    const half = fitLogisticRegression(rows.slice(0, 150), labels.slice(0, 150), 3, options);
    const warm = fitLogisticRegression(rows, labels, 3, { ...options, initial: half });
    Array.from(cold.kernel).forEach((w, i) => expect(warm.kernel[i]).toBeCloseTo(w, 3));
  });
});
