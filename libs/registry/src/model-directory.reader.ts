import { readFile } from 'node:fs/promises';
import { isAbsolute, join, normalize } from 'node:path';
import { sha256Sliced, type ArtifactManifest } from '@app/ml';
import { RegistrationError } from './registry.errors';
import type { ModelFileRecord } from './registry.types';

export const MANIFEST_FILE = 'model.json';

export interface ModelDirectory {
  dir: string;
  /** Every file of the model, model.json last. */
  files: ModelFileRecord[];
  metrics: Record<string, unknown>;
  modelCard: Record<string, unknown>;
}

/**
 * Reads a model directory written by `npm run train` and verifies every file listed in its model.json against
 * the recorded size and sha256, so that a damaged directory is refused before anything is allocated.
 */
export async function readModelDirectory(dir: string): Promise<ModelDirectory> {
  const refuse = (detail: string) => new RegistrationError(dir, detail);
  const manifestBytes = await readFile(join(dir, MANIFEST_FILE)).catch((error: NodeJS.ErrnoException) => {
    throw refuse(
      error.code === 'ENOENT'
        ? `no ${MANIFEST_FILE} (is this the --out folder of "npm run train"?)`
        : `cannot read ${MANIFEST_FILE} (${error.message})`,
    );
  });
  let manifest: Partial<ArtifactManifest>;
  try {
    manifest = JSON.parse(manifestBytes.toString('utf8')) as Partial<ArtifactManifest>;
  } catch (error) {
    throw refuse(`${MANIFEST_FILE} is not valid JSON (${(error as Error).message})`);
  }
  if (!isObject(manifest) || !isObject(manifest.components) || !isObject(manifest.documents)) {
    throw refuse(`${MANIFEST_FILE} does not list components and documents: not a model directory`);
  }

  const listed = [
    ...Object.values(manifest.components).flatMap((component) => Object.values(component?.files ?? {})),
    ...Object.values(manifest.documents),
  ];
  const seen = new Set<string>([MANIFEST_FILE]);
  const files: ModelFileRecord[] = [];
  for (const entry of listed) {
    if (!isFileEntry(entry))
      throw refuse(`${MANIFEST_FILE} has a malformed file entry ${JSON.stringify(entry)}`);
    const problem = pathProblem(entry.path);
    if (problem) throw refuse(`${MANIFEST_FILE} lists ${JSON.stringify(entry.path)}, which ${problem}`);
    if (seen.has(entry.path)) throw refuse(`${MANIFEST_FILE} lists ${entry.path} twice`);
    seen.add(entry.path);
    const bytes = await readListedFile(dir, entry.path);
    const actual = await sha256Sliced(bytes);
    if (actual !== entry.sha256 || bytes.byteLength !== entry.bytes) {
      throw refuse(
        `checksum mismatch for ${entry.path} (expected ${entry.sha256}, ${entry.bytes} bytes; ` +
          `found ${actual}, ${bytes.byteLength} bytes): the directory was modified or damaged after training`,
      );
    }
    files.push({ path: entry.path, sha256: entry.sha256, bytes: entry.bytes });
  }
  files.push({
    path: MANIFEST_FILE,
    sha256: await sha256Sliced(manifestBytes),
    bytes: manifestBytes.byteLength,
  });

  const document = async (name: string): Promise<Record<string, unknown>> => {
    const entry = manifest.documents?.[name];
    if (!entry) return {};
    let body: unknown;
    try {
      body = JSON.parse((await readFile(join(dir, entry.path))).toString('utf8'));
    } catch (error) {
      throw refuse(`${entry.path} is not valid JSON (${(error as Error).message})`);
    }
    if (!isObject(body)) throw refuse(`${entry.path} is not a JSON object`);
    return body;
  };
  return { dir, files, metrics: await document('metrics'), modelCard: await document('model-card') };
}

/** Reads a listed file again and checks it still matches what readModelDirectory verified. */
export async function readVerifiedFile(directory: ModelDirectory, file: ModelFileRecord): Promise<Buffer> {
  const bytes = await readListedFile(directory.dir, file.path);
  if ((await sha256Sliced(bytes)) !== file.sha256) {
    throw new RegistrationError(directory.dir, `${file.path} changed while it was being registered`);
  }
  return bytes;
}

async function readListedFile(dir: string, path: string): Promise<Buffer> {
  try {
    return await readFile(join(dir, path));
  } catch (error) {
    throw new RegistrationError(
      dir,
      (error as NodeJS.ErrnoException).code === 'ENOENT'
        ? `missing file ${path}, listed in ${MANIFEST_FILE}`
        : `cannot read ${path} (${(error as Error).message})`,
    );
  }
}

function pathProblem(path: string): string | undefined {
  if (path === '' || isAbsolute(path) || path.includes('\\')) return 'is not a relative path';
  if (normalize(path) !== path || path.split('/').includes('..'))
    return 'is not a plain path inside the directory';
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isFileEntry(value: unknown): value is ModelFileRecord {
  return (
    isObject(value) &&
    typeof value.path === 'string' &&
    typeof value.sha256 === 'string' &&
    typeof value.bytes === 'number'
  );
}
