import { mkdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, normalize } from 'node:path';
import { sha256, sha256Sliced } from '@app/checksum';

export const ARTIFACT_FORMAT = 'product-classifier/1';
export const MANIFEST_FILE = 'model.json';

/** A component (text or image model) as it is written to disk: a JSON manifest plus named binary blobs. */
export interface SerializedComponent {
  manifest: Record<string, unknown>;
  files: Record<string, Uint8Array>;
}

export interface ArtifactFileEntry {
  path: string;
  sha256: string;
  bytes: number;
}

export interface ArtifactManifest {
  format: typeof ARTIFACT_FORMAT;
  createdAt: string;
  /** Label map: output index i of every component is product type code classes[i]. */
  classes: number[];
  categoryNames: Record<string, string>;
  fusion: { imageWeight: number };
  /** Each model inside the classifier, by name (e.g. text, image), with its own manifest and files. */
  components: Record<string, { manifest: Record<string, unknown>; files: Record<string, ArtifactFileEntry> }>;
  /** Side documents (metrics, model card) with their checksums, so a registry can verify the whole directory. */
  documents: Record<string, ArtifactFileEntry>;
}

export interface ArtifactContents {
  classes: number[];
  categoryNames: Record<string, string>;
  fusion: { imageWeight: number };
  components: Record<string, SerializedComponent>;
  documents: Record<string, unknown>;
}

/** Raised when a model directory is missing, incomplete, of another format, or fails its checksums. */
export class ArtifactError extends Error {
  constructor(
    readonly dir: string,
    detail: string,
  ) {
    super(`Model artifact at ${dir} cannot be used: ${detail}`);
    this.name = 'ArtifactError';
  }
}

/** Writes a model directory: binaries first, the manifest last, so a half-written directory never looks complete. */
export function writeModelArtifact(dir: string, contents: ArtifactContents): ArtifactManifest {
  mkdirSync(dir, { recursive: true });
  const put = (path: string, bytes: Uint8Array): ArtifactFileEntry => {
    const target = join(dir, path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, bytes);
    return { path, sha256: sha256(bytes), bytes: bytes.byteLength };
  };
  const putComponent = (name: string, component: SerializedComponent) => ({
    manifest: component.manifest,
    files: Object.fromEntries(
      Object.entries(component.files).map(([key, bytes]) => [key, put(`${name}/${key}.bin`, bytes)]),
    ),
  });
  const manifest: ArtifactManifest = {
    format: ARTIFACT_FORMAT,
    createdAt: new Date().toISOString(),
    classes: contents.classes,
    categoryNames: contents.categoryNames,
    fusion: contents.fusion,
    components: Object.fromEntries(
      Object.entries(contents.components).map(([name, component]) => [name, putComponent(name, component)]),
    ),
    documents: Object.fromEntries(
      Object.entries(contents.documents).map(([name, body]) => [
        name,
        put(`${name}.json`, Buffer.from(`${JSON.stringify(body, null, 2)}\n`)),
      ]),
    ),
  };
  writeFileSync(join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/**
 * Reads a model directory back, verifying every file it reads against the sha256 recorded in the manifest. With
 * `component`, only the components it accepts are read (the others are left out of `components`). Reading and
 * hashing leave the event loop free between files and slices (see sha256Sliced).
 */
export async function readModelArtifact(
  dir: string,
  component: (name: string) => boolean = () => true,
): Promise<ArtifactContents & { manifest: ArtifactManifest }> {
  const manifestText = await readFile(join(dir, MANIFEST_FILE), 'utf8').catch(
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT')
        throw new ArtifactError(dir, `no ${MANIFEST_FILE} (is this the --out folder of "npm run train"?)`);
      throw error;
    },
  );
  let manifest: ArtifactManifest;
  try {
    manifest = JSON.parse(manifestText) as ArtifactManifest;
  } catch (error) {
    throw new ArtifactError(dir, `${MANIFEST_FILE} is not valid JSON (${(error as Error).message})`);
  }
  if (manifest.format !== ARTIFACT_FORMAT) {
    throw new ArtifactError(
      dir,
      `unsupported format "${String(manifest.format)}", expected "${ARTIFACT_FORMAT}"`,
    );
  }
  const read = async (entry: ArtifactFileEntry): Promise<Uint8Array> => {
    if (normalize(entry.path).startsWith('..'))
      throw new ArtifactError(dir, `file path ${entry.path} leaves the directory`);
    const bytes = await readFile(join(dir, entry.path)).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') throw new ArtifactError(dir, `missing file ${entry.path}`);
      throw error;
    });
    const actual = await sha256Sliced(bytes);
    if (actual !== entry.sha256) {
      throw new ArtifactError(
        dir,
        `checksum mismatch for ${entry.path} (expected ${entry.sha256}, found ${actual})`,
      );
    }
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
  const readAll = async <T>(
    entries: [string, T][],
    readOne: (entry: T) => Promise<unknown>,
  ): Promise<Record<string, unknown>> => {
    const out: Record<string, unknown> = {};
    for (const [name, entry] of entries) out[name] = await readOne(entry);
    return out;
  };
  const readComponent = async (
    entry: ArtifactManifest['components'][string],
  ): Promise<SerializedComponent> => ({
    manifest: entry.manifest,
    files: (await readAll(Object.entries(entry.files), read)) as Record<string, Uint8Array>,
  });
  const components = await readAll(
    Object.entries(manifest.components).filter(([name]) => component(name)),
    readComponent,
  );
  const documents = await readAll(
    Object.entries(manifest.documents),
    async (entry) => JSON.parse(Buffer.from(await read(entry)).toString('utf8')) as unknown,
  );
  return {
    manifest,
    classes: manifest.classes,
    categoryNames: manifest.categoryNames,
    fusion: manifest.fusion,
    components: components as Record<string, SerializedComponent>,
    documents,
  };
}
