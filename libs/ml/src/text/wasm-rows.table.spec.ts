import { SeededRandom } from '../runtime/random.util';
import { accumulateQuantizedRows, QuantizedRows } from './sparse-rows.util';
import { releaseBuffers, WasmRowTable } from './wasm-rows.table';
import { runNow } from '../runtime/sliced-work.util';

function randomTable(rng: SeededRandom, rows: number, width: number): QuantizedRows {
  return QuantizedRows.fromTable(
    Float32Array.from({ length: rows * width }, () => rng.normal()),
    width,
  );
}

describe('WasmRowTable', () => {
  it.each([
    [91, 413],
    [13, 100],
    [27, 800],
    [64, 9000],
    [1, 5],
    [2, 17],
  ])('sums width %i over %i entries bit for bit as accumulateQuantizedRows', (width, entries) => {
    const rng = new SeededRandom(width);
    const rows = 3000;
    const table = randomTable(rng, rows, width);
    const indices = Int32Array.from({ length: entries }, () => Math.floor(rng.next() * rows));
    const values = Float32Array.from({ length: entries }, () => rng.next());
    const wasm = runNow(WasmRowTable.create(table));
    expect(wasm).toBeDefined();
    expect(wasm!.table().bytes).toEqual(table.bytes);
    for (const from of [0, 3]) {
      const expected = new Float32Array(width);
      accumulateQuantizedRows(table, indices, values, from, entries, expected);
      wasm!.sums.fill(NaN);
      wasm!.sum(indices, values, from, entries);
      expect(Array.from(wasm!.sums)).toEqual(Array.from(expected));
    }
  });

  it('lays rows out in a given order and gives the table back in any order', () => {
    const rng = new SeededRandom(7);
    const rows = 500;
    const width = 5;
    const table = randomTable(rng, rows, width);
    const order = Int32Array.from(rng.shuffle(Array.from({ length: rows }, (_, i) => i)));
    const rowOf = new Int32Array(rows);
    order.forEach((column, row) => (rowOf[column] = row));
    const wasm = runNow(WasmRowTable.create(table, order))!;
    expect(wasm.table(rowOf).bytes).toEqual(table.bytes);
    expect(Array.from(wasm.table().dequantize().subarray(0, width))).toEqual(
      Array.from(table.dequantize().subarray(order[0] * width, (order[0] + 1) * width)),
    );
    const indices = Int32Array.from({ length: 100 }, () => Math.floor(rng.next() * rows));
    const values = Float32Array.from({ length: 100 }, () => rng.next());
    const expected = new Float32Array(width);
    accumulateQuantizedRows(table, indices, values, 0, 100, expected);
    wasm.sum(
      indices.map((column) => rowOf[column]),
      values,
      0,
      100,
    );
    expect(Array.from(wasm.sums)).toEqual(Array.from(expected));
  });

  it('releaseBuffers empties the views of a buffer', () => {
    const bytes = new Uint8Array(64);
    releaseBuffers([bytes.buffer]);
    expect(bytes.length).toBe(0);
  });
});

describe('QuantizedRows', () => {
  it('keeps every weight within half a step of its row, and zero rows at zero', () => {
    const rng = new SeededRandom(3);
    const width = 91;
    const floats = Float32Array.from({ length: 200 * width }, (_, i) =>
      i < width ? 0 : rng.normal() * (1 + (i % 7)),
    );
    const table = QuantizedRows.fromTable(floats, width);
    expect(table.rows).toBe(200);
    expect(table.stride).toBe(96);
    expect(table.bytes.byteLength).toBe(200 * 96);
    const restored = table.dequantize();
    for (let r = 0; r < 200; r++) {
      const row = floats.subarray(r * width, (r + 1) * width);
      const step = row.reduce((largest, w) => Math.max(largest, Math.abs(w)), 0) / 127;
      for (let k = 0; k < width; k++) {
        expect(Math.abs(restored[r * width + k] - row[k])).toBeLessThanOrEqual(step / 2 + 1e-6 * step);
      }
    }
    expect(Array.from(restored.subarray(0, width)).every((w) => w === 0)).toBe(true);
  });

  it('refuses bytes that are not whole rows', () => {
    expect(() => new QuantizedRows(new Uint8Array(95), 91)).toThrow(/whole number of 96-byte rows/);
  });
});
