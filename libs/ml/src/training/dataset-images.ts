import type { ProductExample } from '../data/product.types';
import { decodeImageFiles } from '../image/image.decoder';
import type { ImageCache, Log } from './training.types';

/** Decodes every distinct image the examples point at; unreadable files are skipped, counted and reported. */
export async function decodeDatasetImages(
  examples: ProductExample[],
  size: number,
  log: Log,
): Promise<ImageCache> {
  const paths = [...new Set(examples.flatMap((e) => (e.imagePath ? [e.imagePath] : [])))];
  const started = Date.now();
  const decoded = await decodeImageFiles(paths, size);
  const pixels = new Map(decoded.indices.map((index, k) => [paths[index], decoded.pixels[k]]));
  log(
    `images: decoded ${pixels.size} of ${paths.length} at ${size}x${size} in ${((Date.now() - started) / 1000).toFixed(1)} s` +
      (decoded.unreadable.length ? `, ${decoded.unreadable.length} unreadable (skipped)` : ''),
  );
  for (const { path, reason } of decoded.unreadable.slice(0, 10))
    log(`  unreadable image ${path}: ${reason}`);
  return { size, pixels, unreadable: decoded.unreadable.map((u) => u.path) };
}
