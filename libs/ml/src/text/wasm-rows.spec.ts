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
    const other = Float32Array.from({ length: rows * 3 }, () => rng.normal());
    const wasm = WasmRowTables.create([other, table], width + 1);
    expect(wasm).toBeDefined();
    expect(Array.from(wasm!.table(1))).toEqual(Array.from(table));
    for (const from of [0, 3]) {
      const expected = new Float64Array(width);
      accumulateRows(table, width, width, indices, values, from, entries, expected);
      wasm!.sums.fill(NaN);
      wasm!.sum(1, width, width, indices, values, from, entries, 1);
      expect(Array.from(wasm!.sums.subarray(1, width + 1))).toEqual(Array.from(expected));
      expect(wasm!.sums[0]).toBeNaN();
    }
  });

  it('lays rows out in a given order and gives the tables back in any order', () => {
    const rng = new SeededRandom(7);
    const rows = 500;
    const width = 5;
    const table = Float32Array.from({ length: rows * width }, () => rng.normal());
    const wide = Float32Array.from({ length: rows * 2 }, () => rng.normal());
    const order = Int32Array.from(rng.shuffle(Array.from({ length: rows }, (_, i) => i)));
    const rowOf = new Int32Array(rows);
    order.forEach((column, row) => (rowOf[column] = row));
    const wasm = WasmRowTables.create([table, wide], width, order)!;
    expect(Array.from(wasm.table(0, rowOf))).toEqual(Array.from(table));
    expect(Array.from(wasm.table(1, rowOf))).toEqual(Array.from(wide));
    expect(Array.from(wasm.table(1).subarray(0, 2))).toEqual(
      Array.from(wide.subarray(order[0] * 2, order[0] * 2 + 2)),
    );
    const indices = Int32Array.from({ length: 100 }, () => Math.floor(rng.next() * rows));
    const values = Float32Array.from({ length: 100 }, () => rng.next());
    const expected = new Float64Array(width);
    accumulateRows(table, width, width, indices, values, 0, 100, expected);
    wasm.sum(
      0,
      width,
      width,
      indices.map((column) => rowOf[column]),
      values,
      0,
      100,
      0,
    );
    expect(Array.from(wasm.sums.subarray(0, width))).toEqual(Array.from(expected));
  });

  it('releaseBuffers empties the views of a buffer', () => {
    const bytes = new Uint8Array(64);
    releaseBuffers([bytes.buffer]);
    expect(bytes.length).toBe(0);
  });
});
