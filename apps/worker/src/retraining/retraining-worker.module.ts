import { BullModule } from '@nestjs/bullmq';
import { Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppConfig } from '@app/config';
import { RETRAINING_QUEUE } from '@app/queue';
import { redisOptionsFromUrl } from '@app/redis';
import {
  ACCEPT_REGISTERED,
  ModelRegistry,
  PromotionWorkflow,
  RedisProductionAnnouncer,
  RegistryModule,
} from '@app/registry';
import {
  retrainingSettings,
  RetrainingJobs,
  RetrainingMetrics,
  RetrainingModule,
  RetrainingRunner,
} from '@app/retraining';
import { ARTIFACT_STORE, type ArtifactStore } from '@app/storage';
import { TrainingWorkflow } from '@app/training';
import { RetrainingProcessor } from './retraining.processor';

/** Closes the announcer's Redis connection at shutdown. */
@Injectable()
class AnnouncerCloser implements OnApplicationShutdown {
  constructor(private readonly announcer: RedisProductionAnnouncer) {}

  onApplicationShutdown(): Promise<void> {
    return this.announcer.close();
  }
}

@Module({
  imports: [
    BullModule.forRootAsync({
      inject: [AppConfig],
      // A worker's blocking connection must retry forever (BullMQ requires maxRetriesPerRequest: null).
      useFactory: (config: AppConfig) => ({
        connection: redisOptionsFromUrl(config.env.REDIS_URL!, { maxRetriesPerRequest: null }),
        prefix: config.env.QUEUE_PREFIX,
      }),
    }),
    BullModule.registerQueue({ name: RETRAINING_QUEUE }),
    RegistryModule,
    RetrainingModule,
  ],
  providers: [
    {
      provide: RedisProductionAnnouncer,
      inject: [AppConfig],
      useFactory: (config: AppConfig) =>
        new RedisProductionAnnouncer(config.env.REDIS_URL!, config.env.QUEUE_PREFIX),
    },
    AnnouncerCloser,
    {
      // The worker serves no traffic: a registered version needs no preparation here; the API replicas load it
      // when the announcement reaches them.
      provide: TrainingWorkflow,
      inject: [ModelRegistry, RedisProductionAnnouncer, AppConfig],
      useFactory: (registry: ModelRegistry, announcer: RedisProductionAnnouncer, config: AppConfig) =>
        new TrainingWorkflow(
          registry,
          new PromotionWorkflow(registry, ACCEPT_REGISTERED, announcer),
          config.env.VAR_DIR,
        ),
    },
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
    RetrainingProcessor,
  ],
  exports: [RetrainingProcessor],
})
export class RetrainingWorkerModule {}
