import { Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DatabaseModule } from '@app/database';
import { ARTIFACT_STORE, StorageModule, type ArtifactStore } from '@app/storage';
import { ModelRegistry } from './model.registry';

/** Provides ModelRegistry over the configured database and artifact store. */
@Module({
  imports: [DatabaseModule, StorageModule],
  providers: [
    {
      provide: ModelRegistry,
      inject: [DataSource, ARTIFACT_STORE],
      useFactory: (dataSource: DataSource, store: ArtifactStore) => new ModelRegistry(dataSource, store),
    },
  ],
  exports: [ModelRegistry],
})
export class RegistryModule {}
