import { requireFile, toBytes } from './binary-files.util';

describe('binary model files', () => {
  it('round-trips typed arrays through bytes', () => {
    const weights = Float32Array.from([1.5, -2, 3.25]);
    const bytes = toBytes(weights);
    expect(Array.from(new Float32Array(requireFile({ w: bytes }, 'w')))).toEqual([1.5, -2, 3.25]);
  });

  it('copies a file that is a view into a larger buffer, so it can be read as floats', () => {
    const pool = new Uint8Array(16);
    pool.set(toBytes(Float32Array.from([7])), 1);
    const view = pool.subarray(1, 5);
    expect(Array.from(new Float32Array(requireFile({ w: view }, 'w')))).toEqual([7]);
  });

  it('names a missing file', () => {
    expect(() => requireFile({}, 'weights.f32')).toThrow('Model file weights.f32 is missing');
  });
});
