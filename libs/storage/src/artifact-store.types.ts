/** Where model artifacts live: an S3 bucket in production, a local directory in the embedded default. */
export interface ArtifactStore {
  /** Human-readable location, e.g. "s3://models-bucket" or "file:///srv/var/artifacts", for logs and errors. */
  readonly location: string;
  put(key: string, body: Uint8Array): Promise<void>;
  /** The object's bytes; throws ArtifactNotFoundError when the key does not exist. */
  get(key: string): Promise<Buffer>;
  exists(key: string): Promise<boolean>;
  /**
   * Every key under a prefix, sorted. A prefix names a folder: "models/v1" and "models/v1/" both mean
   * "models/v1/" (never "models/v10/..."), and "" means the whole store.
   */
  list(prefix: string): Promise<string[]>;
  /** Deletes every key under a prefix as list() reads it (cleans up a registration that failed half-way). */
  deletePrefix(prefix: string): Promise<void>;
  /** Resolves when the store answers; rejects with the reason otherwise (readiness checks). */
  ping(): Promise<void>;
}

export class ArtifactNotFoundError extends Error {
  constructor(
    readonly location: string,
    readonly key: string,
  ) {
    super(`Artifact ${key} does not exist in ${location}`);
    this.name = 'ArtifactNotFoundError';
  }
}

/** Nest injection token for the configured ArtifactStore. */
export const ARTIFACT_STORE = Symbol('ARTIFACT_STORE');
