import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';

/** The sha256 of some bytes, in lowercase hex: the checksum model manifests, the registry and photo keys use. */
export function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** About a millisecond of hashing: the longest a sliced hash holds the event loop at a time. */
const HASH_SLICE_BYTES = 1 << 20;

/**
 * sha256 of bytes already in memory, in slices with a turn of the event loop between them. A serving process
 * verifies model files of tens of megabytes while it answers requests: hashed in one call, they held every request
 * (and every socket timer) for hundreds of milliseconds.
 */
export async function sha256Sliced(bytes: Uint8Array): Promise<string> {
  const hash = createHash('sha256');
  for (let at = 0; at < bytes.byteLength; at += HASH_SLICE_BYTES) {
    if (at > 0) await nextTurn();
    hash.update(bytes.subarray(at, at + HASH_SLICE_BYTES));
  }
  return hash.digest('hex');
}

export interface StreamDigest {
  sha256: string;
  bytes: number;
}

/** The sha256 and length of everything a stream yields, read chunk by chunk so a large file never sits in memory. */
export async function sha256Stream(stream: Readable): Promise<StreamDigest> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    hash.update(chunk);
    bytes += chunk.byteLength;
  }
  return { sha256: hash.digest('hex'), bytes };
}

/** The sha256 and size of a file, streamed. */
export function sha256File(path: string): Promise<StreamDigest> {
  return sha256Stream(createReadStream(path));
}
