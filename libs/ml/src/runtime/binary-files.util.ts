/** A copy of a typed array's bytes, detached from any larger buffer it views. */
export function toBytes(array: Float32Array | Int32Array): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength).slice();
}

/**
 * A model file's bytes as an ArrayBuffer to view as Float32Array or Int32Array. A file read on its own already
 * owns an aligned buffer, which is used as it is: copying hundreds of megabytes of weights would double the
 * memory a load needs. Small files can sit inside Node's shared pool, and are copied out of it.
 */
export function requireFile(files: Record<string, Uint8Array>, name: string): ArrayBuffer {
  const data = files[name];
  if (!data) throw new Error(`Model file ${name} is missing`);
  const ownsBuffer = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength;
  return ownsBuffer && data.buffer instanceof ArrayBuffer ? data.buffer : data.slice().buffer;
}
