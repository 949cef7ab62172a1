/**
 * Turns log-scores into probabilities in place: subtracting the largest first keeps every exponent at or below 0,
 * so no score overflows.
 */
export function softmaxInPlace(scores: Float32Array): void {
  let max = -Infinity;
  for (let k = 0; k < scores.length; k++) if (scores[k] > max) max = scores[k];
  let sum = 0;
  for (let k = 0; k < scores.length; k++) {
    scores[k] = Math.exp(scores[k] - max);
    sum += scores[k];
  }
  for (let k = 0; k < scores.length; k++) scores[k] /= sum;
}
