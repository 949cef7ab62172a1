import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmConvGradients } from './wasm-conv-grad.kernel';

async function convGrads(
  backend: string,
  stride: number,
  pad: 'same' | 'valid',
  k: number,
): Promise<number[][]> {
  expect(await tf.setBackend(backend)).toBe(true);
  const x = tf.randomNormal([3, 9, 11, 2], 0, 1, 'float32', 1);
  const w = tf.randomNormal([k, k, 2, 4], 0, 1, 'float32', 2);
  const lossOf = (a: tf.Tensor, b: tf.Tensor): tf.Tensor =>
    tf
      .conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, pad)
      .square()
      .sum();
  const grads = tf.grads(lossOf)([x, w]);
  const values = await Promise.all(grads.map(async (g) => Array.from(await g.data())));
  tf.dispose([x, w, ...grads]);
  return values;
}

describe('wasm Conv2D gradients', () => {
  it.each([
    [1, 'same', 3],
    [2, 'same', 3],
    [1, 'valid', 3],
    [2, 'valid', 5],
    [1, 'same', 2],
  ] as const)('match the cpu backend (stride %i, %s, %i×%i)', async (stride, pad, k) => {
    registerWasmConvGradients();
    const expected = await convGrads('cpu', stride, pad, k);
    const actual = await convGrads('wasm', stride, pad, k);
    for (const [i, grad] of actual.entries()) {
      grad.forEach((v, j) => expect(v).toBeCloseTo(expected[i][j], 2));
    }
  });
});
