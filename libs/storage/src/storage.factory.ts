import { resolve } from 'node:path';
import type { AppConfig } from '@app/config';
import type { ArtifactStore } from './artifact-store';
import { LocalArtifactStore } from './local-artifact.store';
import { S3ArtifactStore } from './s3-artifact.store';

/** S3 when a bucket is configured, otherwise files under <VAR_DIR>/artifacts. */
export function createArtifactStore(config: AppConfig): ArtifactStore {
  const s3 = config.s3;
  if (s3) return new S3ArtifactStore(s3);
  return new LocalArtifactStore(resolve(config.env.VAR_DIR, 'artifacts'));
}
