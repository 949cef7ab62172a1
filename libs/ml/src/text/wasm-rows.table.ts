/**
 * accumulateQuantizedRows (sparse-rows.util.ts) as a WebAssembly SIMD kernel over a table held in WebAssembly memory: four
 * columns per instruction in float32, with the same operations in the same order as the TypeScript loop (each
 * entry's value × its row's scale, then × each weight; eight rows' products summed left to right, then added to the
 * accumulator), so the sums are bit-identical to it. WebAssembly has no fused multiply-add unless asked for, so
 * nothing is contracted.
 *
 * The binary is assembled here (a few hundred bytes) rather than shipped, so there is no build step.
 */

import type { SlicedWork } from '../runtime/sliced-work.util';
import { copyRows, QuantizedRows } from './sparse-rows.util';

const I32 = 0x7f;
const F32 = 0x7d;
const V128 = 0x7b;

const op = {
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  end: 0x0b,
  br: 0x0c,
  brIf: 0x0d,
  get: 0x20,
  set: 0x21,
  tee: 0x22,
  i32Load: 0x28,
  f32Load: 0x2a,
  i32Load8S: 0x2c,
  f32Store: 0x38,
  i32Const: 0x41,
  i32LtS: 0x48,
  i32GtS: 0x4a,
  i32LeS: 0x4c,
  i32GeS: 0x4e,
  i32Add: 0x6a,
  i32Mul: 0x6c,
  i32And: 0x71,
  i32Or: 0x72,
  i32Shl: 0x74,
  f32Add: 0x92,
  f32Mul: 0x94,
  f32ConvertI32S: 0xb2,
};

/** SIMD instructions: the 0xfd prefix, then the opcode as unsigned LEB128. */
const simd = {
  load: [0xfd, 0x00],
  store: [0xfd, 0x0b],
  f32x4Splat: [0xfd, 0x13],
  load32Zero: [0xfd, 0x5c],
  load64Zero: [0xfd, 0x5d],
  i16x8ExtendLowI8x16S: [0xfd, 0x87, 0x01],
  i32x4ExtendLowI16x8S: [0xfd, 0xa7, 0x01],
  i32x4ExtendHighI16x8S: [0xfd, 0xa8, 0x01],
  f32x4Add: [0xfd, 0xe4, 0x01],
  f32x4Mul: [0xfd, 0xe6, 0x01],
  f32x4ConvertI32x4S: [0xfd, 0xfa, 0x01],
};

function uleb(value: number): number[] {
  const bytes: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    bytes.push(byte);
  } while (value !== 0);
  return bytes;
}

function sleb(value: number): number[] {
  const bytes: number[] = [];
  for (;;) {
    const byte = value & 0x7f;
    value >>= 7;
    if ((value === 0 && (byte & 0x40) === 0) || (value === -1 && (byte & 0x40) !== 0)) {
      bytes.push(byte);
      return bytes;
    }
    bytes.push(byte | 0x80);
  }
}

const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];
const vector = (items: number[][]) => [...uleb(items.length), ...items.flat()];
const name = (text: string) => [...uleb(text.length), ...Array.from(text, (c) => c.charCodeAt(0))];
/** A memory access: alignment hint 1 byte (always valid), then the offset. */
const memarg = (offset = 0) => [0, ...uleb(offset)];

// Parameters.
const TABLE = 0; // byte address of the table
const STRIDE = 1; // bytes from one table row to the next
const WIDTH = 2; // columns summed
const INDICES = 3; // byte address of the Int32 row numbers
const VALUES = 4; // byte address of the Float32 entry values
const FROM = 5;
const TO = 6;
const ACC = 7; // byte address of the Float32 accumulators
// Locals.
const J = 8;
const K = 9; // column k, which is also its byte offset among a row's weights
const AP = 10; // address of acc[k]
const R = 11; // r0..r7: addresses of the eight rows (a row is its float32 scale, then a byte per weight)
const TOUCHED = 19; // what the early loads read, kept so that they stay
const LINE = 20; // byte offset of a cache line in a row
const V = 21; // v0..v7: each entry's value × its row's scale, in all four lanes
const LOW = 29; // sums of the eight rows' columns k..k+3
const HIGH = 30; // and k+4..k+7
const BYTES = 31; // one row's eight weights, widened to 16 bits
const W = 32; // w0..w7: each entry's value × its row's scale
/** Where a row's weights start: after its scale. */
const WEIGHTS = 4;

function accumulateBody(): number[] {
  const get = (local: number) => [op.get, local];
  const set = (local: number) => [op.set, local];
  const i32 = (value: number) => [op.i32Const, ...sleb(value)];
  const add = (local: number, value: number) => [...get(local), ...i32(value), op.i32Add, ...set(local)];
  /** address + 4·j, j being the entry index */
  const entry = (base: number) => [...get(base), ...get(J), ...i32(2), op.i32Shl, op.i32Add];
  /** The address of the row of entry j + i. */
  const rowOf = (i: number) =>
    [get(TABLE), entry(INDICES), op.i32Load, memarg(4 * i), get(STRIDE), op.i32Mul, op.i32Add].flat();
  /** value[j + i] × the scale of row `row`. */
  const scaled = (i: number, row: number) =>
    [entry(VALUES), op.f32Load, memarg(4 * i), get(row), op.f32Load, memarg(), op.f32Mul].flat();
  /** Row i's byte at column k, as a float. */
  const weight = (i: number) =>
    [get(R + i), get(K), op.i32Add, op.i32Load8S, memarg(WEIGHTS), op.f32ConvertI32S].flat();
  /** acc[k..k+3] at byte offset `offset` from AP += the vector in `local`. */
  const addTo = (offset: number, local: number) =>
    [
      get(AP),
      get(AP),
      simd.load,
      memarg(offset),
      get(local),
      simd.f32x4Add,
      simd.store,
      memarg(offset),
    ].flat();
  const code: number[] = [];
  const emit = (...parts: (number | number[])[]) =>
    parts.forEach((p) => (Array.isArray(p) ? code.push(...p) : code.push(p)));
  /** TOUCHED |= the word at `offset` bytes into each of the next group's eight rows. */
  const touchNextRows = (offset: number[]) => {
    for (let i = 0; i < 8; i++) {
      emit(get(TOUCHED), rowOf(8 + i), offset, op.i32Add, op.i32Load, memarg(), op.i32Or, set(TOUCHED));
    }
  };
  /** sum = sum + w_i · (columns of row i, widened from BYTES by `extend`), or sum = that for row 0. */
  const rowProducts = (i: number, sum: number, extend: number[]) => {
    emit(get(V + i), get(BYTES), extend, simd.f32x4ConvertI32x4S, simd.f32x4Mul);
    if (i > 0) emit(get(sum), simd.f32x4Add);
    emit(set(sum));
  };

  emit(get(FROM), set(J));
  // Eight rows at a time.
  emit(op.block, 0x40, op.loop, 0x40);
  emit(get(J), i32(8), op.i32Add, get(TO), op.i32GtS, op.brIf, 1);
  for (let i = 0; i < 8; i++) {
    emit(rowOf(i), set(R + i));
    emit(scaled(i, R + i), op.tee, W + i, simd.f32x4Splat, set(V + i));
  }
  // Touch every cache line of the next eight rows first (each line that starts in a row, then its last word): their
  // cache misses then overlap this group's arithmetic instead of stalling the next group (the processor cannot look
  // a whole group ahead by itself).
  emit(get(J), i32(16), op.i32Add, get(TO), op.i32LeS, op.if, 0x40, i32(0), set(LINE));
  emit(op.block, 0x40, op.loop, 0x40);
  emit(get(LINE), get(STRIDE), op.i32GeS, op.brIf, 1);
  touchNextRows(get(LINE));
  emit(add(LINE, 64), op.br, 0, op.end, op.end);
  touchNextRows([...get(STRIDE), ...i32(-4), op.i32Add]);
  emit(op.end);
  emit(i32(0), set(K), get(ACC), set(AP));
  // Eight columns at a time: eight bytes of each row, widened to two vectors of four.
  emit(op.block, 0x40, op.loop, 0x40);
  emit(get(K), i32(8), op.i32Add, get(WIDTH), op.i32GtS, op.brIf, 1);
  for (let i = 0; i < 8; i++) {
    emit(
      get(R + i),
      get(K),
      op.i32Add,
      simd.load64Zero,
      memarg(WEIGHTS),
      simd.i16x8ExtendLowI8x16S,
      set(BYTES),
    );
    rowProducts(i, LOW, simd.i32x4ExtendLowI16x8S);
    rowProducts(i, HIGH, simd.i32x4ExtendHighI16x8S);
  }
  emit(addTo(0, LOW), addTo(16, HIGH));
  emit(add(K, 8), add(AP, 32), op.br, 0, op.end, op.end);
  // Then four columns, if as many are left.
  emit(get(K), i32(4), op.i32Add, get(WIDTH), op.i32LeS, op.if, 0x40);
  for (let i = 0; i < 8; i++) {
    emit(
      get(R + i),
      get(K),
      op.i32Add,
      simd.load32Zero,
      memarg(WEIGHTS),
      simd.i16x8ExtendLowI8x16S,
      set(BYTES),
    );
    rowProducts(i, LOW, simd.i32x4ExtendLowI16x8S);
  }
  emit(addTo(0, LOW), add(K, 4), add(AP, 16), op.end);
  // Then the last columns one at a time.
  emit(op.block, 0x40, op.loop, 0x40);
  emit(get(K), get(WIDTH), op.i32GeS, op.brIf, 1);
  emit(get(AP), get(AP), op.f32Load, memarg());
  for (let i = 0; i < 8; i++) {
    emit(get(W + i), weight(i), op.f32Mul);
    if (i > 0) emit(op.f32Add);
  }
  emit(op.f32Add, op.f32Store, memarg());
  emit(add(K, 1), add(AP, 4), op.br, 0, op.end, op.end);
  emit(add(J, 8), op.br, 0, op.end, op.end);
  // The remaining rows one at a time.
  emit(op.block, 0x40, op.loop, 0x40);
  emit(get(J), get(TO), op.i32GeS, op.brIf, 1);
  emit(rowOf(0), set(R));
  emit(scaled(0, R), set(W));
  emit(i32(0), set(K), get(ACC), set(AP));
  emit(op.block, 0x40, op.loop, 0x40);
  emit(get(K), get(WIDTH), op.i32GeS, op.brIf, 1);
  emit(get(AP), get(AP), op.f32Load, memarg(), get(W), weight(0), op.f32Mul);
  emit(op.f32Add, op.f32Store, memarg());
  emit(add(K, 1), add(AP, 4), op.br, 0, op.end, op.end);
  emit(add(J, 1), op.br, 0, op.end, op.end);
  emit(op.end);
  const locals = vector([
    [...uleb(13), I32],
    [...uleb(11), V128],
    [...uleb(8), F32],
  ]);
  const body = [...locals, ...code];
  return [...uleb(body.length), ...body];
}

function moduleBytes(): Uint8Array {
  const funcType = [0x60, ...vector(Array.from({ length: 8 }, () => [I32])), ...uleb(0)];
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vector([funcType])),
    ...section(2, vector([[...name('env'), ...name('memory'), 0x02, 0x00, ...uleb(1)]])),
    ...section(3, vector([uleb(0)])),
    ...section(7, vector([[...name('accumulate'), 0x00, ...uleb(0)]])),
    ...section(10, vector([accumulateBody()])),
  ]);
}

export type WasmAccumulate = (
  table: number,
  stride: number,
  width: number,
  indices: number,
  values: number,
  from: number,
  to: number,
  acc: number,
) => void;

/** The parts of the WebAssembly JavaScript API used here (the project's TypeScript libs do not declare it). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (
    module: object,
    imports: { env: { memory: WasmMemory } },
  ) => { exports: Record<string, unknown> };
  Memory: new (descriptor: { initial: number; maximum: number }) => WasmMemory;
}
const wasmApi = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

let compiled: object | null | undefined;

/** The kernel's module, compiled once; undefined where WebAssembly or its SIMD instructions are unavailable. */
function compiledModule(): object | undefined {
  if (compiled === undefined) {
    try {
      compiled = wasmApi ? new wasmApi.Module(moduleBytes()) : null;
    } catch {
      compiled = null;
    }
  }
  return compiled ?? undefined;
}

/** Entries of a row copied into WebAssembly memory at a time; a multiple of 8, so the sums group rows as in one go. */
const SCRATCH_ENTRIES = 4096;
const align16 = (bytes: number) => Math.ceil(bytes / 16) * 16;
/** Where the table starts in its memory. */
const TABLE_OFFSET = 16;

/**
 * A quantized sparse-layer table copied into a WebAssembly memory of its own (freed with the model that holds it),
 * summed by the SIMD kernel. The memory never grows, so its views stay valid; rows are copied in through a fixed
 * scratch area, SCRATCH_ENTRIES entries at a time. The rows can be copied in another order (see create()).
 */
export class WasmRowTable {
  /** The table, as a view into the WebAssembly memory. */
  private readonly view: Uint8Array;
  private readonly indices: Int32Array;
  private readonly values: Float32Array;
  /** Where sum() writes, `width` floats (in WebAssembly memory). */
  readonly sums: Float32Array;
  private readonly width: number;
  private readonly stride: number;

  /** Its rows are still to be copied in (see create()). */
  private constructor(
    private readonly accumulate: WasmAccumulate,
    memory: WasmMemory,
    table: QuantizedRows,
  ) {
    const { width, stride } = table;
    this.width = width;
    this.stride = stride;
    let at = TABLE_OFFSET;
    this.view = new Uint8Array(memory.buffer, at, table.bytes.byteLength);
    at = align16(at + table.bytes.byteLength);
    this.sums = new Float32Array(memory.buffer, at, width);
    at = align16(at + width * 4);
    this.indices = new Int32Array(memory.buffer, at, SCRATCH_ENTRIES);
    this.values = new Float32Array(memory.buffer, at + SCRATCH_ENTRIES * 4, SCRATCH_ENTRIES);
  }

  /**
   * A copy of `table` summed in WebAssembly, row i of the copy being row order[i] of the table (row i without
   * `order`, which otherwise lists every row); undefined where WebAssembly SIMD is unavailable.
   */
  static *create(table: QuantizedRows, order?: Int32Array): SlicedWork<WasmRowTable | undefined> {
    const module = compiledModule();
    if (!module || !wasmApi) return undefined;
    const bytes =
      align16(TABLE_OFFSET + table.bytes.byteLength) + align16(table.width * 4) + SCRATCH_ENTRIES * 8;
    const pages = Math.ceil(bytes / 65536);
    let memory: WasmMemory;
    try {
      memory = new wasmApi.Memory({ initial: pages, maximum: pages });
    } catch {
      // No room for another WebAssembly memory (address space or limits): the model sums in TypeScript instead.
      return undefined;
    }
    const instance = new wasmApi.Instance(module, { env: { memory } });
    const created = new WasmRowTable(instance.exports.accumulate as WasmAccumulate, memory, table);
    yield* copyRows(table.bytes, table.stride, order, created.view);
    return created;
  }

  /** Whether create() can work here (WebAssembly with SIMD). */
  static get available(): boolean {
    return compiledModule() !== undefined && wasmApi !== undefined;
  }

  /** A copy of the table, row i being its row order[i] (row i without `order`). */
  table(order?: Int32Array): QuantizedRows {
    return new QuantizedRows(this.view, this.width).reordered(order);
  }

  /**
   * sums[0, width) = Σ_j values[j] · row indices[j] over j in [from, to): the sums accumulateQuantizedRows adds to a
   * zeroed accumulator, bit for bit.
   */
  sum(indices: Int32Array, values: Float32Array, from: number, to: number): void {
    const { sums, indices: rowsIn, values: valuesIn, width, stride } = this;
    sums.fill(0);
    for (let start = from; start < to; start += SCRATCH_ENTRIES) {
      const end = Math.min(to, start + SCRATCH_ENTRIES);
      rowsIn.set(indices.subarray(start, end));
      valuesIn.set(values.subarray(start, end));
      this.accumulate(
        TABLE_OFFSET,
        stride,
        width,
        rowsIn.byteOffset,
        valuesIn.byteOffset,
        0,
        end - start,
        sums.byteOffset,
      );
    }
  }
}

/**
 * Frees buffers now instead of at some later garbage collection: transferring an ArrayBuffer detaches it (every view
 * of it becomes empty) and its memory goes with the discarded copy. For model files whose tables were copied into
 * WebAssembly memory, when the caller said the files are the model's to consume: a load then never holds all of
 * the files and all of their copies at once.
 */
export function releaseBuffers(buffers: ArrayBufferLike[]): void {
  for (const buffer of buffers) {
    if (buffer instanceof ArrayBuffer && buffer.byteLength > 0)
      structuredClone(buffer, { transfer: [buffer] });
  }
}
