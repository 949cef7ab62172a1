import { mkdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import type { ArtifactStore } from '@app/storage';

/** Downloads at a time: S3 answers many small requests faster in parallel. */
const CONCURRENCY = 8;

/**
 * Copies a Rakuten-layout folder kept in the artifact store (S3 in production) under `prefix` to `cacheDir`, for
 * processes without a local copy of the data (a worker on a fresh instance), and returns the local folder. The CSV
 * files are fetched every time (they are small, and a new export replaces them under the same names); an image
 * already in the cache is kept (images are named after their product and image ids).
 */
export async function fetchDataFromStore(
  store: ArtifactStore,
  prefix: string,
  cacheDir: string,
  log: (line: string) => void,
): Promise<string> {
  const folder = prefix.endsWith('/') ? prefix : `${prefix}/`;
  const target = resolve(cacheDir);
  const keys = await store.list(folder);
  if (keys.length === 0) throw new Error(`no training data under ${folder} in ${store.location}`);
  let fetched = 0;
  let next = 0;
  const worker = async () => {
    while (next < keys.length) {
      const key = keys[next++];
      const path = join(target, key.slice(folder.length));
      // A key such as "../x" must not write outside the cache.
      if (relative(target, path).startsWith('..'))
        throw new Error(`refusing the key ${key}: it leaves the folder`);
      if (!key.endsWith('.csv') && (await stat(path).catch(() => null))) continue;
      const bytes = await store.get(key);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, bytes);
      fetched++;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  log(
    `training data: ${keys.length} files under ${folder} in ${store.location}, ${fetched} fetched to ${target}`,
  );
  return target;
}
