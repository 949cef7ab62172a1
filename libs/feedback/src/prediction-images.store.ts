import { randomUUID } from 'node:crypto';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256 } from '@app/checksum';
import { ArtifactNotFoundError, LocalArtifactStore, type ArtifactStore } from '@app/storage';

/** The store's folder of prediction photos; an S3 lifecycle rule on this prefix expires them (see README). */
export const PREDICTION_IMAGES_PREFIX = 'prediction-images/';

/** stored: a new object; existing: the same bytes were already stored (by this or an earlier prediction). */
export type ImageSaveResult = 'stored' | 'existing';

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Downloads at a time when a training job fetches photos. */
const FETCH_CONCURRENCY = 8;

/**
 * The photos sent with predictions, kept in the artifact store so that labels reported later can train the image
 * model. Content-addressed (`prediction-images/<sha256 of the bytes>`, the `image_sha256` of the prediction row):
 * the same photo sent many times is one object.
 */
export class PredictionImages {
  constructor(private readonly store: ArtifactStore) {}

  static keyOf(sha: string): string {
    if (!SHA256_HEX.test(sha)) throw new Error(`not a sha256 in hex: ${JSON.stringify(sha)}`);
    return `${PREDICTION_IMAGES_PREFIX}${sha}`;
  }

  /** Stores the bytes unless an object with their hash exists; `sha` when the caller has hashed them already. */
  async save(bytes: Uint8Array, sha = sha256(bytes)): Promise<{ sha256: string; result: ImageSaveResult }> {
    const key = PredictionImages.keyOf(sha);
    if (await this.store.exists(key)) return { sha256: sha, result: 'existing' };
    await this.store.put(key, bytes);
    return { sha256: sha, result: 'stored' };
  }

  /**
   * The photo as a file `<dir>/<sha>`, downloaded unless already there; undefined when the store no longer has it.
   * The store is asked every time, even for a cached file: a photo that retention removed from the store is not
   * trained on again, and its cached copy is deleted.
   */
  async fetchTo(sha: string, dir: string): Promise<string | undefined> {
    const key = PredictionImages.keyOf(sha);
    const path = join(dir, sha);
    if (!(await this.store.exists(key))) {
      await rm(path, { force: true });
      return undefined;
    }
    if (await stat(path).catch(() => null)) return path;
    let bytes: Buffer;
    try {
      bytes = await this.store.get(key);
    } catch (error) {
      if (error instanceof ArtifactNotFoundError) return undefined;
      throw error;
    }
    await mkdir(dir, { recursive: true });
    // A process killed mid-write must not leave a truncated photo that the next job takes as cached.
    const temp = join(dir, `.${sha}.${randomUUID()}.tmp`);
    await writeFile(temp, bytes);
    await rename(temp, path);
    return path;
  }

  /** fetchTo for many photos (each distinct hash once): the local path of each one the store still has. */
  async fetchAllTo(shas: Iterable<string>, dir: string): Promise<Map<string, string>> {
    const pending = [...new Set(shas)];
    const paths = new Map<string, string>();
    const worker = async () => {
      for (let sha = pending.pop(); sha !== undefined; sha = pending.pop()) {
        const path = await this.fetchTo(sha, dir);
        if (path) paths.set(sha, path);
      }
    };
    await Promise.all(Array.from({ length: FETCH_CONCURRENCY }, worker));
    return paths;
  }

  /**
   * Deletes the photos stored more than `days` days ago, on the local artifact directory, and returns how many;
   * null on S3, where the bucket's lifecycle rule on the prefix does it. An image is kept `days` from when it
   * was first stored: a later prediction with the same photo finds it there and does not store it again.
   */
  async expire(days: number, now = new Date()): Promise<number | null> {
    if (!(this.store instanceof LocalArtifactStore)) return null;
    return this.store.deleteOlderThan(PREDICTION_IMAGES_PREFIX, new Date(now.getTime() - days * 86_400_000));
  }
}
