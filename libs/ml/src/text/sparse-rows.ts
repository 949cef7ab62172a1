/**
 * Inference kernels shared by the text models, which all end in a sparse layer: a feature-major table whose row f
 * holds feature f's weights, summed over a text's features weighted by their TF-IDF values.
 */

/**
 * acc[0, width) += Σ_j values[j] · table[indices[j] · stride + k] over j in [from, to), in doubles. Eight rows are read side by side: each
 * accumulator is loaded and stored once per eight rows instead of once per row, and the eight independent row reads
 * overlap their cache misses, which is where a 100-MB table spends its time (4× faster than one row at a time).
 */
export function accumulateRows(
  table: Float32Array,
  stride: number,
  width: number,
  indices: Int32Array,
  values: Float32Array,
  from: number,
  to: number,
  acc: Float64Array,
): void {
  let j = from;
  for (; j + 8 <= to; j += 8) {
    const r0 = indices[j] * stride;
    const r1 = indices[j + 1] * stride;
    const r2 = indices[j + 2] * stride;
    const r3 = indices[j + 3] * stride;
    const r4 = indices[j + 4] * stride;
    const r5 = indices[j + 5] * stride;
    const r6 = indices[j + 6] * stride;
    const r7 = indices[j + 7] * stride;
    const v0 = values[j];
    const v1 = values[j + 1];
    const v2 = values[j + 2];
    const v3 = values[j + 3];
    const v4 = values[j + 4];
    const v5 = values[j + 5];
    const v6 = values[j + 6];
    const v7 = values[j + 7];
    for (let k = 0; k < width; k++) {
      acc[k] +=
        v0 * table[r0 + k] +
        v1 * table[r1 + k] +
        v2 * table[r2 + k] +
        v3 * table[r3 + k] +
        v4 * table[r4 + k] +
        v5 * table[r5 + k] +
        v6 * table[r6 + k] +
        v7 * table[r7 + k];
    }
  }
  for (; j < to; j++) {
    const r = indices[j] * stride;
    const v = values[j];
    for (let k = 0; k < width; k++) acc[k] += v * table[r + k];
  }
}

/** out[offset, offset + n) = softmax(logits[0, n)), computed in doubles. */
export function softmaxInto(logits: Float64Array, n: number, out: Float32Array, offset: number): void {
  let max = -Infinity;
  for (let c = 0; c < n; c++) if (logits[c] > max) max = logits[c];
  let sum = 0;
  for (let c = 0; c < n; c++) sum += logits[c] = Math.exp(logits[c] - max);
  for (let c = 0; c < n; c++) out[offset + c] = logits[c] / sum;
}
