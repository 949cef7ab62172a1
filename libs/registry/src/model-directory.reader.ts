import { readFile } from 'node:fs/promises';
import { isAbsolute, join, normalize } from 'node:path';
import { sha256, sha256File, type StreamDigest } from '@app/checksum';
import { RegistrationError } from './registry.errors';
import type { ModelFileRecord } from './registry.types';

export const MANIFEST_FILE = 'model.json';

/**
 * The part of model.json (written by `npm run train`) the registry verifies: every file it lists, with its checksum.
 * The registry does not predict, so it reads this listing rather than importing the model library's full type.
 */
interface ManifestListing {
  components: Record<string, { files?: Record<string, unknown> } | undefined>;
  documents: Record<string, unknown>;
}

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
  let manifest: Partial<ManifestListing>;
  try {
    manifest = JSON.parse(manifestBytes.toString('utf8')) as Partial<ManifestListing>;
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
    const actual = await digestListedFile(dir, entry.path);
    if (actual.sha256 !== entry.sha256 || actual.bytes !== entry.bytes) {
      throw refuse(
        `checksum mismatch for ${entry.path} (expected ${entry.sha256}, ${entry.bytes} bytes; ` +
          `found ${actual.sha256}, ${actual.bytes} bytes): the directory was modified or damaged after training`,
      );
    }
    files.push({ path: entry.path, sha256: entry.sha256, bytes: entry.bytes });
  }
  files.push({ path: MANIFEST_FILE, sha256: sha256(manifestBytes), bytes: manifestBytes.byteLength });

  const document = async (name: string): Promise<Record<string, unknown>> => {
    const entry = manifest.documents?.[name];
    if (!isFileEntry(entry)) return {};
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
  if (sha256(bytes) !== file.sha256) {
    throw new RegistrationError(directory.dir, `${file.path} changed while it was being registered`);
  }
  return bytes;
}

async function readListedFile(dir: string, path: string): Promise<Buffer> {
  return readFile(join(dir, path)).catch((error: unknown) => {
    throw listedFileError(dir, path, error);
  });
}

/** Streamed, so that verifying a directory of large weights does not hold them in memory. */
async function digestListedFile(dir: string, path: string): Promise<StreamDigest> {
  return sha256File(join(dir, path)).catch((error: unknown) => {
    throw listedFileError(dir, path, error);
  });
}

function listedFileError(dir: string, path: string, error: unknown): RegistrationError {
  return new RegistrationError(
    dir,
    (error as NodeJS.ErrnoException).code === 'ENOENT'
      ? `missing file ${path}, listed in ${MANIFEST_FILE}`
      : `cannot read ${path} (${(error as Error).message})`,
  );
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
