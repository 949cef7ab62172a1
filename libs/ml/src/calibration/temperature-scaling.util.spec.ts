import { SeededRandom } from '../runtime/random.util';
import { expectedCalibrationError, reliabilityTable } from './calibration.report';
import { applyTemperature, fitTemperature, negativeLogLikelihood } from './temperature-scaling.util';

/**
 * An over-confident model: each row's true class has a true chance `skill` of being ranked first, but the model
 * sharpens its probabilities as if it were nearly always right.
 */
function overConfident(rows: number, classes: number, seed: number) {
  const random = new SeededRandom(seed);
  const probs = new Float32Array(rows * classes);
  const labels: number[] = [];
  for (let r = 0; r < rows; r++) {
    const label = random.int(classes);
    labels.push(label);
    const logits = Array.from({ length: classes }, () => random.normal());
    logits[label] += 1.2;
    const sharp = logits.map((z) => Math.exp(4 * z));
    const sum = sharp.reduce((a, b) => a + b, 0);
    sharp.forEach((v, k) => (probs[r * classes + k] = v / sum));
  }
  return { probs, labels };
}

function ece(probs: Float32Array, labels: number[], classes: number): number {
  const confidences: number[] = [];
  const correct: boolean[] = [];
  labels.forEach((label, r) => {
    const row = probs.subarray(r * classes, (r + 1) * classes);
    let best = 0;
    for (let k = 1; k < classes; k++) if (row[k] > row[best]) best = k;
    confidences.push(row[best]);
    correct.push(best === label);
  });
  return expectedCalibrationError(reliabilityTable(confidences, correct));
}

describe('temperature scaling', () => {
  const classes = 8;

  it('fits a temperature above 1 to an over-confident model, lowering its NLL and ECE on new rows of the same kind', () => {
    const fit = overConfident(2000, classes, 1);
    const temperature = fitTemperature(fit.probs, fit.labels, classes);
    expect(temperature).toBeGreaterThan(1.5);

    const test = overConfident(2000, classes, 2);
    const scaled = new Float32Array(test.probs.length);
    for (let r = 0; r < test.labels.length; r++) {
      applyTemperature(
        test.probs.subarray(r * classes, (r + 1) * classes),
        temperature,
        scaled.subarray(r * classes, (r + 1) * classes),
      );
    }
    expect(negativeLogLikelihood(scaled, test.labels, classes)).toBeLessThan(
      negativeLogLikelihood(test.probs, test.labels, classes) * 0.8,
    );
    const before = ece(test.probs, test.labels, classes);
    const after = ece(scaled, test.labels, classes);
    expect(before).toBeGreaterThan(0.1);
    expect(after).toBeLessThan(before / 3);
  });

  it('finds the NLL minimum: nearby temperatures do no better', () => {
    const { probs, labels } = overConfident(500, classes, 3);
    const t = fitTemperature(probs, labels, classes);
    const at = (temperature: number) => negativeLogLikelihood(probs, labels, classes, temperature);
    expect(at(t)).toBeLessThanOrEqual(at(t * 1.05) + 1e-9);
    expect(at(t)).toBeLessThanOrEqual(at(t / 1.05) + 1e-9);
  });

  it('sharpens an under-confident model (temperature below 1)', () => {
    const { probs, labels } = overConfident(1000, classes, 4);
    // Flatten far beyond what the accuracy justifies.
    for (let r = 0; r < labels.length; r++)
      applyTemperature(probs.subarray(r * classes, (r + 1) * classes), 12);
    expect(fitTemperature(probs, labels, classes)).toBeLessThan(1);
  });

  it('keeps the order of the classes and sums to 1', () => {
    const row = new Float32Array([0.5, 0.05, 0.3, 0.15]);
    for (const temperature of [0.3, 1, 2.5, 10]) {
      const out = new Float32Array(4);
      applyTemperature(row, temperature, out);
      const order = (values: Float32Array) => [...values.keys()].sort((a, b) => values[b] - values[a]);
      expect(order(out)).toEqual(order(row));
      expect(out.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    }
  });

  it('gives 1 when there is nothing to fit', () => {
    expect(fitTemperature(new Float32Array(0), [], 3)).toBe(1);
  });
});
