import { resolve } from 'node:path';
import type { AppConfig, S3Settings } from '@app/config';
import type { ArtifactStore } from './artifact-store.types';
import { LocalArtifactStore } from './local-artifact.store';
import { S3ArtifactStore } from './s3-artifact.store';

/** Where the configured store is, as plain data that another process can open (see artifactStoreAt). */
export interface ArtifactStoreLocation {
  s3?: S3Settings;
  varDir: string;
}

export function artifactStoreLocation(config: AppConfig): ArtifactStoreLocation {
  return { ...(config.s3 && { s3: config.s3 }), varDir: config.env.VAR_DIR };
}

/** S3 when a bucket is given, otherwise files under <varDir>/artifacts. */
export function artifactStoreAt(location: ArtifactStoreLocation): ArtifactStore {
  if (location.s3) return new S3ArtifactStore(location.s3);
  return new LocalArtifactStore(resolve(location.varDir, 'artifacts'));
}

/** S3 when a bucket is configured, otherwise files under <VAR_DIR>/artifacts. */
export function createArtifactStore(config: AppConfig): ArtifactStore {
  return artifactStoreAt(artifactStoreLocation(config));
}
