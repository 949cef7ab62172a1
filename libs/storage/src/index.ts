export { assertValidArtifactKey } from './artifact-key.util';
export { ARTIFACT_STORE, ArtifactNotFoundError, type ArtifactStore } from './artifact-store.types';
export { LocalArtifactStore } from './local-artifact.store';
export { S3ArtifactStore, type S3ArtifactStoreOptions } from './s3-artifact.store';
export {
  artifactStoreAt,
  artifactStoreLocation,
  createArtifactStore,
  type ArtifactStoreLocation,
} from './storage.factory';
export { StorageModule } from './storage.module';
