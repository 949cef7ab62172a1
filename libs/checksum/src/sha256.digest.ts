import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';

/** The sha256 of some bytes, in lowercase hex: the checksum model manifests, the registry and photo keys use. */
export function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
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
