import { Global, Module } from '@nestjs/common';
import { AppConfig } from '@app/config';
import { ARTIFACT_STORE } from './artifact-store.types';
import { createArtifactStore } from './storage.factory';

@Global()
@Module({
  providers: [
    {
      provide: ARTIFACT_STORE,
      useFactory: (config: AppConfig) => createArtifactStore(config),
      inject: [AppConfig],
    },
  ],
  exports: [ARTIFACT_STORE],
})
export class StorageModule {}
