import { readFile } from 'node:fs/promises';
import { sha256 } from '@app/checksum';
import type { ProductExample } from '../data/product.types';
import type { BackboneRunner } from '../image/backbone.runner';
import { computeImageFeatures, featureFolder } from '../image/image.featurizer';
import { decodeImage } from '../image/image.decoder';
import { featureSourceKey, sourceImageSize, type ImageFeatureSource } from '../image/image.classifier';
import type { ImageCache, Log } from './training.types';

/**
 * Where features computed once are kept, by the photo's content hash: the artifact store (S3, or the local artifact
 * directory) fits as it is, so that the worker and every replica share one cache.
 */
export interface ImageFeatureStore {
  list(prefix: string): Promise<string[]>;
  get(key: string): Promise<Uint8Array>;
  put(key: string, body: Uint8Array): Promise<void>;
}

export interface DatasetFeatureOptions {
  /** Runs the backbone (required for backbone sources). */
  backbones?: BackboneRunner;
  /** Cache of features by photo hash; unset: every photo is decoded and extracted. */
  store?: ImageFeatureStore;
}

/** Photos read, hashed and looked up at a time: bounds the memory of decoded images waiting for the backbone. */
const CONCURRENCY = 4;

function toBytes(features: Float32Array): Uint8Array {
  return new Uint8Array(features.buffer, features.byteOffset, features.byteLength);
}

function fromBytes(bytes: Uint8Array): Float32Array {
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

/**
 * The features of every distinct image the examples point at, from `source`. With a store, a photo's features are
 * looked up under its content hash first (the same sha256 as the prediction photos' keys) and stored after they
 * are computed, so that retraining on the same photos extracts nothing again. Unreadable files are skipped,
 * counted and reported.
 */
export async function extractDatasetFeatures(
  examples: ProductExample[],
  source: ImageFeatureSource,
  log: Log,
  options: DatasetFeatureOptions = {},
): Promise<ImageCache> {
  const paths = [...new Set(examples.flatMap((e) => (e.imagePath ? [e.imagePath] : [])))];
  const started = Date.now();
  const folder = featureFolder(source);
  const cached = new Set(options.store ? await options.store.list(folder) : []);
  const features = new Map<string, Float32Array>();
  const unreadable: { path: string; reason: string }[] = [];
  let fromCache = 0;
  let next = 0;
  const worker = async () => {
    while (next < paths.length) {
      const path = paths[next++];
      try {
        const bytes = await readFile(path);
        const key = `${folder}${sha256(bytes)}`;
        const known = cached.has(key) ? await options.store!.get(key) : undefined;
        if (known && known.byteLength % 4 === 0 && known.byteLength > 0) {
          features.set(path, fromBytes(known));
          fromCache++;
          continue;
        }
        const pixels = await decodeImage(bytes, sourceImageSize(source));
        const [vector] = await computeImageFeatures(source, [pixels], options.backbones);
        features.set(path, vector);
        await options.store?.put(key, toBytes(vector));
      } catch (error) {
        // Kept as a message: `instanceof Error` is unreliable across realms (fs errors under jest).
        unreadable.push({ path, reason: (error as Error).message });
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  log(
    `image features (${featureSourceKey(source)}): ${features.size} of ${paths.length} images, ${fromCache} from the ` +
      `cache, in ${((Date.now() - started) / 1000).toFixed(1)} s` +
      (unreadable.length ? `, ${unreadable.length} unreadable (skipped)` : ''),
  );
  for (const { path, reason } of unreadable.slice(0, 10)) log(`  unreadable image ${path}: ${reason}`);
  return { source: featureSourceKey(source), features, unreadable: unreadable.map((u) => u.path) };
}
