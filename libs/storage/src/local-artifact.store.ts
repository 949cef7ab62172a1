import { randomUUID } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { assertValidArtifactKey, toArtifactFolder } from './artifact-key.util';
import { ArtifactNotFoundError, ArtifactStore } from './artifact-store.types';

/** In-flight writes live beside their target (rename is only atomic within one file system) and are never listed. */
const TEMP_FILE = /^\..+\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.tmp$/;

/** Stores each key as a file under a root directory, key segments becoming sub-directories. */
export class LocalArtifactStore implements ArtifactStore {
  readonly root: string;
  readonly location: string;

  /** A relative root is resolved against the working directory now, so a later chdir cannot move the store. */
  constructor(root: string) {
    this.root = resolve(root);
    this.location = pathToFileURL(this.root).href;
  }

  async put(key: string, body: Uint8Array): Promise<void> {
    const target = this.pathOf(key);
    const directory = dirname(target);
    await mkdir(directory, { recursive: true });
    // A reader (or a crash) must never observe a half-written artifact.
    const temp = join(directory, `.${basename(target)}.${randomUUID()}.tmp`);
    try {
      await writeFile(temp, body);
      await rename(temp, target);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }

  async get(key: string): Promise<Buffer> {
    const path = this.pathOf(key);
    try {
      return await readFile(path);
    } catch (error) {
      // EISDIR/ENOTDIR: the key names a folder or runs through a file; S3 would answer "no such key" too.
      if (hasCode(error, 'ENOENT', 'EISDIR', 'ENOTDIR')) throw new ArtifactNotFoundError(this.location, key);
      throw error;
    }
  }

  async exists(key: string): Promise<boolean> {
    try {
      return (await stat(this.pathOf(key))).isFile();
    } catch (error) {
      if (hasCode(error, 'ENOENT', 'ENOTDIR')) return false;
      throw error;
    }
  }

  async list(prefix: string): Promise<string[]> {
    const folder = toArtifactFolder(prefix);
    const keys: string[] = [];
    await this.collect(folder, keys);
    return keys.sort();
  }

  async deletePrefix(prefix: string): Promise<void> {
    const folder = toArtifactFolder(prefix);
    const directory = join(this.root, folder);
    if (!(await isDirectory(directory))) return;
    if (folder === '') {
      // Keep the root itself: it may be a mount point or have permissions set by the operator.
      const entries = await readdir(directory);
      await Promise.all(entries.map((entry) => rm(join(directory, entry), { recursive: true, force: true })));
    } else {
      await rm(directory, { recursive: true, force: true });
    }
  }

  /**
   * Deletes the files under a prefix last written before `cutoff`, and returns how many: the local counterpart of
   * an S3 lifecycle expiration rule (which this interface cannot express, so it lives on this class only).
   */
  async deleteOlderThan(prefix: string, cutoff: Date): Promise<number> {
    let deleted = 0;
    for (const key of await this.list(prefix)) {
      const path = this.pathOf(key);
      const written = await stat(path).catch((error: unknown) => {
        if (hasCode(error, 'ENOENT')) return null;
        throw error;
      });
      if (!written || written.mtime >= cutoff) continue;
      await rm(path, { force: true });
      deleted++;
    }
    return deleted;
  }

  async ping(): Promise<void> {
    const probe = join(this.root, `.ping.${randomUUID()}.tmp`);
    try {
      await mkdir(this.root, { recursive: true });
      await writeFile(probe, '');
      await unlink(probe);
    } catch (error) {
      throw new Error(`Artifact store ${this.location} is not writable: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  private pathOf(key: string): string {
    assertValidArtifactKey(key);
    return join(this.root, ...key.split('/'));
  }

  private async collect(folder: string, keys: string[]): Promise<void> {
    let entries;
    try {
      entries = await readdir(join(this.root, folder), { withFileTypes: true });
    } catch (error) {
      if (hasCode(error, 'ENOENT', 'ENOTDIR')) return;
      throw error;
    }
    for (const entry of entries) {
      if (entry.isDirectory()) await this.collect(`${folder}${entry.name}/`, keys);
      else if (entry.isFile() && !TEMP_FILE.test(entry.name)) keys.push(`${folder}${entry.name}`);
    }
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await lstat(path)).isDirectory();
  } catch (error) {
    if (hasCode(error, 'ENOENT', 'ENOTDIR')) return false;
    throw error;
  }
}

function hasCode(error: unknown, ...codes: string[]): boolean {
  return codes.includes((error as NodeJS.ErrnoException | undefined)?.code ?? '');
}
