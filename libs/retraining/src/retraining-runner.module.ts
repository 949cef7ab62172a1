import { Module, type DynamicModule } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppConfig } from '@app/config';
import { ModelRegistry, RegistryModule } from '@app/registry';
import { ARTIFACT_STORE, type ArtifactStore } from '@app/storage';
import { TrainingModule, TrainingWorkflow, type TrainingModuleOptions } from '@app/training';
import { RetrainingJobs } from './retraining-jobs.service';
import { RetrainingModule } from './retraining.module';
import { RetrainingMetrics } from './retraining.metrics';
import { retrainingSettings, RetrainingRunner } from './retraining.runner';

/**
 * For a process that runs retraining jobs (the worker, or the API in embedded mode): the RetrainingRunner (the
 * @OnJob('retrain') handler) and the TrainingWorkflow it runs, over the configured data (DATA_DIR, DATA_S3_PREFIX),
 * gate (GATE_*) and labelled predictions. The app supplies its promotion adapter.
 */
@Module({})
export class RetrainingRunnerModule {
  static register(options: TrainingModuleOptions): DynamicModule {
    return {
      module: RetrainingRunnerModule,
      imports: [RegistryModule, RetrainingModule, TrainingModule.register(options)],
      providers: [
        {
          provide: RetrainingRunner,
          inject: [
            RetrainingJobs,
            ModelRegistry,
            TrainingWorkflow,
            RetrainingMetrics,
            ARTIFACT_STORE,
            AppConfig,
            DataSource,
          ],
          useFactory: (
            jobs: RetrainingJobs,
            registry: ModelRegistry,
            training: TrainingWorkflow,
            metrics: RetrainingMetrics,
            store: ArtifactStore,
            config: AppConfig,
            dataSource: DataSource,
          ) =>
            new RetrainingRunner(
              jobs,
              registry,
              training,
              retrainingSettings(config, store, dataSource),
              metrics,
            ),
        },
      ],
      exports: [RetrainingRunner, TrainingModule, RetrainingModule],
    };
  }
}
