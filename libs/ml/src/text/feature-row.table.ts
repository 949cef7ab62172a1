import { requireFile } from '../runtime/binary-files.util';
import { runNow, type SlicedWork } from '../runtime/sliced-work.util';
import { accumulateQuantizedRows, QuantizedRows } from './sparse-rows.util';
import {
  TextFeatureExtractor,
  type SparseRowBuffer,
  type TextFeatureParams,
} from './text-features.extractor';
import { releaseBuffers, WasmRowTable } from './wasm-rows.table';

/**
 * The scoring layer every text model shares: its features, and one row of `width` weights per feature column, 8 bits
 * per weight (QuantizedRows), summed for a text's features. Where WebAssembly SIMD is available the rows live in
 * WebAssembly memory, laid out from the most frequent feature down (the rows most texts read then share cache lines
 * and pages: the sums of the bench model's networks and SVMs went from 93 to 80 µs per text), the features'
 * columns renumbered to match; elsewhere they are summed in TypeScript (bit-identical). A model adds its own layer
 * on the sums: scaled margins for the SVM, a dense head for the network.
 */
export class FeatureRowTable {
  readonly features: TextFeatureExtractor;
  private readonly quantized?: QuantizedRows;
  private readonly wasm?: WasmRowTable;
  private readonly reordered: boolean;
  private readonly sums: Float32Array;

  private constructor(
    features: TextFeatureExtractor,
    layout: { wasm?: WasmRowTable; quantized?: QuantizedRows; reordered: boolean; width: number },
  ) {
    this.features = features;
    this.wasm = layout.wasm;
    this.quantized = layout.quantized;
    this.reordered = layout.reordered;
    this.sums = new Float32Array(layout.width);
  }

  /** The table over `features`, built now (a model just trained). */
  static of(features: TextFeatureExtractor, table: QuantizedRows): FeatureRowTable {
    return runNow(FeatureRowTable.build(features, table));
  }

  /** With `ownsFeatureArrays`, the features' arrays are renumbered in place (they came from files handed over). */
  private static *build(
    features: TextFeatureExtractor,
    table: QuantizedRows,
    ownsFeatureArrays = false,
  ): SlicedWork<FeatureRowTable> {
    const { width } = table;
    const order = WasmRowTable.available ? yield* features.frequencyOrder() : undefined;
    const wasm = yield* WasmRowTable.create(table, order);
    if (!wasm) return new FeatureRowTable(features, { quantized: table, reordered: false, width });
    if (!order) return new FeatureRowTable(features, { wasm, reordered: false, width });
    const reordered = yield* features.reordered(order, ownsFeatureArrays);
    return new FeatureRowTable(reordered, { wasm, reordered: true, width });
  }

  /** Value-weighted sum of the rows of entries [from, to) of `rows`; the array is reused by the next call. */
  sum(rows: SparseRowBuffer, from: number, to: number): Float32Array {
    if (this.wasm) {
      this.wasm.sum(rows.indices, rows.values, from, to);
      return this.wasm.sums;
    }
    this.sums.fill(0);
    accumulateQuantizedRows(this.quantized!, rows.indices, rows.values, from, to, this.sums);
    return this.sums;
  }

  /** The features' parameters and files, and the table as `tableFile`, rows in the features' bucket order. */
  toFiles(tableFile: string): { params: TextFeatureParams; files: Record<string, Uint8Array> } {
    const order = this.reordered ? this.features.inBucketOrder() : undefined;
    const features = (order ? runNow(this.features.reordered(order)) : this.features).toFiles();
    const table = this.wasm ? this.wasm.table(order) : this.quantized!;
    return { params: features.params, files: { ...features.files, [tableFile]: table.bytes.slice() } };
  }

  /**
   * Reads what toFiles wrote. With `consumeFiles`, the caller hands the files over (a load that read them for this
   * model alone): the table's file is emptied once copied into WebAssembly memory, so its memory is freed at once.
   */
  static *fromFiles(
    params: TextFeatureParams,
    files: Record<string, Uint8Array>,
    tableFile: string,
    width: number,
    consumeFiles: boolean,
  ): SlicedWork<FeatureRowTable> {
    const features = TextFeatureExtractor.fromFiles(params, files);
    const read = requireFile(files, tableFile);
    if (read.byteLength !== features.numFeatures * QuantizedRows.strideOf(width)) {
      throw new Error(`Model file ${tableFile} does not match the model's ${features.numFeatures} features`);
    }
    const table = yield* FeatureRowTable.build(
      features,
      new QuantizedRows(new Uint8Array(read), width),
      consumeFiles,
    );
    if (consumeFiles && table.wasm) releaseBuffers([read]);
    return table;
  }
}
