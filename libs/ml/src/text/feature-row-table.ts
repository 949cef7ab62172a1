import { requireFile } from '../runtime/binary-files';
import { accumulateQuantizedRows, QuantizedRows } from './sparse-rows';
import {
  TextFeatureExtractor,
  type SparseRowBuffer,
  type TextFeatureParams,
} from './text-features.extractor';
import { releaseBuffers, WasmRowTable } from './wasm-rows';

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

  /** With `ownsFeatureArrays`, the features' arrays are renumbered in place (they came from files handed over). */
  constructor(features: TextFeatureExtractor, table: QuantizedRows, ownsFeatureArrays = false) {
    this.sums = new Float32Array(table.width);
    const order = WasmRowTable.available ? features.frequencyOrder() : undefined;
    this.wasm = WasmRowTable.create(table, order);
    if (!this.wasm) this.quantized = table;
    this.reordered = this.wasm !== undefined && order !== undefined;
    this.features = this.reordered ? features.reordered(order!, ownsFeatureArrays) : features;
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
    const features = (order ? this.features.reordered(order) : this.features).toFiles();
    const table = this.wasm ? this.wasm.table(order) : this.quantized!;
    return { params: features.params, files: { ...features.files, [tableFile]: table.bytes.slice() } };
  }

  /**
   * Reads what toFiles wrote. With `consumeFiles`, the caller hands the files over (a load that read them for this
   * model alone): the table's file is emptied once copied into WebAssembly memory, so its memory is freed at once.
   */
  static fromFiles(
    params: TextFeatureParams,
    files: Record<string, Uint8Array>,
    tableFile: string,
    width: number,
    consumeFiles: boolean,
  ): FeatureRowTable {
    const features = TextFeatureExtractor.fromFiles(params, files);
    const read = requireFile(files, tableFile);
    if (read.byteLength !== features.numFeatures * QuantizedRows.strideOf(width)) {
      throw new Error(`Model file ${tableFile} does not match the model's ${features.numFeatures} features`);
    }
    const table = new FeatureRowTable(features, new QuantizedRows(new Uint8Array(read), width), consumeFiles);
    if (consumeFiles && table.wasm) releaseBuffers([read]);
    return table;
  }
}
