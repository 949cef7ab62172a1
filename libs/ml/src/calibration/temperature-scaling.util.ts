import { softmaxInPlace } from '../runtime/softmax.util';

/** Keeps log(0) finite: a model that gave the true class no probability at all still has a finite loss. */
const EPSILON = 1e-7;

/** Search bounds of the inverse temperature: from very soft (20× flatter) to very sharp (20× steeper). */
const MIN_BETA = 0.05;
const MAX_BETA = 20;
const GOLDEN = (Math.sqrt(5) - 1) / 2;

/**
 * Rescales one row of probabilities by a temperature: p'_k ∝ p_k^(1/T). T > 1 softens an over-confident model,
 * T < 1 sharpens an under-confident one; the order of the classes never changes, so the answer (argmax) and the
 * top-k ranking are those of the model. Writes into `out` (which may be `probs` itself).
 */
export function applyTemperature(probs: Float32Array, temperature: number, out: Float32Array = probs): void {
  if (temperature === 1) {
    if (out !== probs) out.set(probs);
    return;
  }
  const beta = 1 / temperature;
  for (let k = 0; k < probs.length; k++) out[k] = beta * Math.log(probs[k] + EPSILON);
  softmaxInPlace(out);
}

/**
 * Mean negative log-likelihood of the true classes after rescaling `probs` (rows × classes, row-major) by
 * `temperature`.
 */
export function negativeLogLikelihood(
  probs: Float32Array,
  labels: ArrayLike<number>,
  numClasses: number,
  temperature = 1,
): number {
  const beta = 1 / temperature;
  const logs = new Float64Array(numClasses);
  let total = 0;
  for (let row = 0; row < labels.length; row++) {
    let max = -Infinity;
    for (let k = 0; k < numClasses; k++) {
      logs[k] = beta * Math.log(probs[row * numClasses + k] + EPSILON);
      if (logs[k] > max) max = logs[k];
    }
    let sum = 0;
    for (let k = 0; k < numClasses; k++) sum += Math.exp(logs[k] - max);
    total -= logs[labels[row]] - max - Math.log(sum);
  }
  return labels.length ? total / labels.length : 0;
}

/**
 * The temperature that minimises the negative log-likelihood of the true classes on held-out rows (Guo et al.,
 * "On Calibration of Modern Neural Networks", 2017). The loss is convex in the inverse temperature, so a golden
 * section search over it finds the optimum; 1 when there are no rows.
 */
export function fitTemperature(probs: Float32Array, labels: ArrayLike<number>, numClasses: number): number {
  if (labels.length === 0) return 1;
  if (probs.length !== labels.length * numClasses) {
    throw new RangeError(
      `fitTemperature: ${probs.length} probabilities for ${labels.length} rows of ${numClasses} classes`,
    );
  }
  const loss = (beta: number) => negativeLogLikelihood(probs, labels, numClasses, 1 / beta);
  let low = MIN_BETA;
  let high = MAX_BETA;
  let a = high - GOLDEN * (high - low);
  let b = low + GOLDEN * (high - low);
  let fa = loss(a);
  let fb = loss(b);
  while (high - low > 1e-4) {
    if (fa < fb) {
      high = b;
      b = a;
      fb = fa;
      a = high - GOLDEN * (high - low);
      fa = loss(a);
    } else {
      low = a;
      a = b;
      fa = fb;
      b = low + GOLDEN * (high - low);
      fb = loss(b);
    }
  }
  return 1 / ((low + high) / 2);
}
