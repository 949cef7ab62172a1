import { SeededRandom } from '../runtime/random';
import { accumulateRows } from './sparse-rows';
import { releaseBuffers, WasmRowTables } from './wasm-rows';

describe('WasmRowTables', () => {
  it.each([
    [91, 413],
    [27, 800],
    [64, 9000],
    [1, 5],
    [2, 17],
  ])('sums width %i over %i entries bit for bit as accumulateRows', (width, entries) => {
    const rng = new SeededRandom(width);
    const rows = 3000;
    const table = Float32Array.from({ length: rows * width }, () => rng.normal());
    const indices = Int32Array.from({ length: entries }, () => Math.floor(rng.next() * rows));
    const values = Float32Array.from({ length: entries }, () => rng.next());
    const wasm = WasmRowTables.create([new Float32Array(7), table], width + 1);
    expect(wasm).toBeDefined();
    expect(Array.from(wasm!.tables[1])).toEqual(Array.from(table));
    for (const from of [0, 3]) {
      const expected = new Float64Array(width);
      accumulateRows(table, width, width, indices, values, from, entries, expected);
      wasm!.sums.fill(NaN);
      wasm!.sum(1, width, width, indices, values, from, entries, 1);
      expect(Array.from(wasm!.sums.subarray(1, width + 1))).toEqual(Array.from(expected));
      expect(wasm!.sums[0]).toBeNaN();
    }
  });

  it('releaseBuffers empties the views of a buffer', () => {
    const bytes = new Uint8Array(64);
    releaseBuffers([bytes.buffer]);
    expect(bytes.length).toBe(0);
  });
});
