import { tf } from '../runtime/tf-backend.setup';

/**
 * Multinomial logistic regression with an L2 penalty, fitted by L-BFGS on dense rows: the image model's linear head.
 * The objective is scikit-learn's (`LogisticRegression(C)`, lbfgs solver, bias not penalised) divided by C·n, so a C
 * measured there means the same here: mean cross-entropy + ||W||² / (2·C·n).
 */
export interface LogisticRegressionOptions {
  /** Inverse strength of the L2 penalty, as scikit-learn's C. */
  c: number;
  /** Most L-BFGS iterations. */
  maxIterations: number;
  /** Stop when the largest gradient component falls under this. */
  tolerance: number;
  /** Called every `reportEvery` iterations (and at the end) with the iteration, the objective and the weights. */
  onIteration?: (iteration: number, loss: number, weights: LinearWeights) => void;
  reportEvery?: number;
  /** Starting point (zeros when absent): a fit on a subset warm-starts the fit on all rows. */
  initial?: LinearWeights;
}

/** Row-major features × classes kernel and one bias per class. */
export interface LinearWeights {
  kernel: Float32Array;
  bias: Float32Array;
}

const HISTORY = 10;

function flatten(rows: Float32Array[]): Float32Array {
  const d = rows[0].length;
  const out = new Float32Array(rows.length * d);
  rows.forEach((row, i) => out.set(row, i * d));
  return out;
}

/** Logits of one row: bias + x·W, written into `out`. */
function rowLogits(
  x: Float32Array,
  kernel: Float64Array | Float32Array,
  bias: ArrayLike<number>,
  classes: number,
  out: Float64Array,
): void {
  for (let k = 0; k < classes; k++) out[k] = bias[k];
  for (let j = 0; j < x.length; j++) {
    const v = x[j];
    if (v === 0) continue;
    const base = j * classes;
    for (let k = 0; k < classes; k++) out[k] += v * kernel[base + k];
  }
}

/** In place: logits become softmax probabilities. */
function softmaxInPlace(z: Float64Array): void {
  let max = -Infinity;
  for (const v of z) if (v > max) max = v;
  let sum = 0;
  for (let k = 0; k < z.length; k++) {
    z[k] = Math.exp(z[k] - max);
    sum += z[k];
  }
  for (let k = 0; k < z.length; k++) z[k] /= sum;
}

/**
 * Fits W (features × classes) and b on `rows` (each of the same length) and labels 0..classes-1. Parameters are one
 * vector [W row-major, b]; the solver keeps the last HISTORY curvature pairs and backtracks until the Armijo
 * condition holds. TensorFlow.js must be initialised (initBackend).
 */
export function fitLogisticRegression(
  rows: Float32Array[],
  labels: number[],
  classes: number,
  options: LogisticRegressionOptions,
): LinearWeights {
  const n = rows.length;
  const d = rows[0].length;
  const kernelSize = d * classes;
  const size = kernelSize + classes;
  const lambda = 1 / (options.c * n);
  const toWeights = (w: Float64Array): LinearWeights => ({
    kernel: Float32Array.from(w.subarray(0, kernelSize)),
    bias: Float32Array.from(w.subarray(kernelSize)),
  });

  // The two products with the rows run in TensorFlow.js (its kernels are several times faster than loops here);
  // the solver's own vectors stay in float64.
  const x = tf.tensor2d(flatten(rows), [n, d]);
  const y = tf.oneHot(tf.tensor1d(labels, 'int32'), classes).toFloat();
  const evaluate = (w: Float64Array, grad: Float64Array): number => {
    const [loss, gKernel, gBias] = tf.tidy(() => {
      const kernel = tf.tensor2d(Float32Array.from(w.subarray(0, kernelSize)), [d, classes]);
      const bias = tf.tensor1d(Float32Array.from(w.subarray(kernelSize)));
      const logits = tf.add(tf.matMul(x, kernel), bias);
      const logProbabilities = tf.logSoftmax(logits);
      const crossEntropy = tf.neg(tf.sum(tf.mul(y, logProbabilities)));
      const residual = tf.sub(tf.exp(logProbabilities), y);
      return [crossEntropy, tf.matMul(x, residual, true, false), tf.sum(residual, 0)];
    });
    const values = [loss.dataSync()[0], gKernel.dataSync(), gBias.dataSync()] as const;
    tf.dispose([loss, gKernel, gBias]);
    let penalty = 0;
    for (let p = 0; p < kernelSize; p++) {
      penalty += w[p] * w[p];
      grad[p] = values[1][p] / n + lambda * w[p];
    }
    for (let k = 0; k < classes; k++) grad[kernelSize + k] = values[2][k] / n;
    return values[0] / n + (lambda / 2) * penalty;
  };

  const dot = (a: Float64Array, b: Float64Array): number => {
    let s = 0;
    for (let p = 0; p < size; p++) s += a[p] * b[p];
    return s;
  };

  let w = new Float64Array(size);
  if (options.initial) {
    w.set(options.initial.kernel);
    w.set(options.initial.bias, kernelSize);
  }
  let grad = new Float64Array(size);
  let loss = evaluate(w, grad);
  const sHistory: Float64Array[] = [];
  const yHistory: Float64Array[] = [];
  const rhoHistory: number[] = [];
  const alpha = new Float64Array(HISTORY);
  const direction = new Float64Array(size);
  const reportEvery = options.reportEvery ?? 10;
  let iteration = 0;
  while (iteration < options.maxIterations) {
    let largest = 0;
    for (const g of grad) largest = Math.max(largest, Math.abs(g));
    if (largest < options.tolerance) break;

    // Two-loop recursion: direction = -H·grad.
    for (let p = 0; p < size; p++) direction[p] = -grad[p];
    for (let h = sHistory.length - 1; h >= 0; h--) {
      alpha[h] = rhoHistory[h] * dot(sHistory[h], direction);
      const yh = yHistory[h];
      for (let p = 0; p < size; p++) direction[p] -= alpha[h] * yh[p];
    }
    if (sHistory.length) {
      const last = sHistory.length - 1;
      const gamma = dot(sHistory[last], yHistory[last]) / dot(yHistory[last], yHistory[last]);
      for (let p = 0; p < size; p++) direction[p] *= gamma;
    } else {
      // First step: unit length, so the initial line search starts at a sensible scale.
      const norm = Math.sqrt(dot(direction, direction));
      for (let p = 0; p < size; p++) direction[p] /= norm;
    }
    for (let h = 0; h < sHistory.length; h++) {
      const beta = rhoHistory[h] * dot(yHistory[h], direction);
      const sh = sHistory[h];
      for (let p = 0; p < size; p++) direction[p] += (alpha[h] - beta) * sh[p];
    }

    const slope = dot(grad, direction);
    if (slope >= 0) break;
    let step = 1;
    const next = new Float64Array(size);
    const nextGrad = new Float64Array(size);
    let nextLoss = Infinity;
    for (let tries = 0; tries < 30; tries++) {
      for (let p = 0; p < size; p++) next[p] = w[p] + step * direction[p];
      nextLoss = evaluate(next, nextGrad);
      if (nextLoss <= loss + 1e-4 * step * slope) break;
      step /= 2;
    }
    if (!(nextLoss < loss)) break;

    const s = new Float64Array(size);
    const y = new Float64Array(size);
    for (let p = 0; p < size; p++) {
      s[p] = next[p] - w[p];
      y[p] = nextGrad[p] - grad[p];
    }
    const sy = dot(s, y);
    if (sy > 1e-10) {
      if (sHistory.length === HISTORY) {
        sHistory.shift();
        yHistory.shift();
        rhoHistory.shift();
      }
      sHistory.push(s);
      yHistory.push(y);
      rhoHistory.push(1 / sy);
    }
    const converged = loss - nextLoss < 1e-9 * Math.max(1, Math.abs(loss));
    w = next;
    grad = nextGrad;
    loss = nextLoss;
    iteration++;
    if (options.onIteration && iteration % reportEvery === 0)
      options.onIteration(iteration, loss, toWeights(w));
    if (converged) break;
  }
  tf.dispose([x, y]);
  const weights = toWeights(w);
  if (options.onIteration && iteration % reportEvery !== 0) options.onIteration(iteration, loss, weights);
  return weights;
}

/** Softmax probabilities of `rows` under `weights`, row-major n × classes. */
export function linearProbabilities(rows: Float32Array[], weights: LinearWeights): Float32Array {
  const classes = weights.bias.length;
  const out = new Float32Array(rows.length * classes);
  const z = new Float64Array(classes);
  rows.forEach((x, i) => {
    rowLogits(x, weights.kernel, weights.bias, classes, z);
    softmaxInPlace(z);
    for (let k = 0; k < classes; k++) out[i * classes + k] = z[k];
  });
  return out;
}
