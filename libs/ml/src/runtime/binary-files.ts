/** A copy of a typed array's bytes, detached from any larger buffer it views. */
export function toBytes(array: Float32Array | Int32Array): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength).slice();
}

/** An aligned copy of a model file's bytes, ready to view as Float32Array or Int32Array. */
export function requireFile(files: Record<string, Uint8Array>, name: string): ArrayBuffer {
  const data = files[name];
  if (!data) throw new Error(`Model file ${name} is missing`);
  return data.slice().buffer;
}
