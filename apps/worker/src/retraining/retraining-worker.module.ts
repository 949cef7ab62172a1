import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import Redis from 'ioredis';
import { AppConfig } from '@app/config';
import { RETRAINING_QUEUE, redisOptionsFromUrl } from '@app/queue';
import { ModelRegistry, RegistryModule } from '@app/registry';
import { RetrainingJobs, RetrainingModule, RetrainingRunner } from '@app/retraining';
import { RetrainingProcessor } from './retraining.processor';

/** Redis channel on which whoever moves the production pointer announces it (the API replicas listen). */
const PRODUCTION_CHANNEL = 'model-registry:production-changed';

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
      provide: RetrainingRunner,
      inject: [RetrainingJobs, ModelRegistry, AppConfig],
      useFactory: (jobs: RetrainingJobs, registry: ModelRegistry, config: AppConfig) =>
        new RetrainingRunner(
          jobs,
          registry,
          async (version, actor, reason) => {
            const { production } = await registry.promote(version, { actor, reason });
            const redis = new Redis(config.env.REDIS_URL!, { maxRetriesPerRequest: 1 });
            try {
              await redis.publish(
                PRODUCTION_CHANNEL,
                JSON.stringify({ version, revision: production.revision }),
              );
            } finally {
              redis.disconnect();
            }
          },
          { dataDir: config.env.DATA_DIR, varDir: config.env.VAR_DIR, gate: config.gate },
        ),
    },
    RetrainingProcessor,
  ],
  exports: [RetrainingProcessor],
})
export class RetrainingWorkerModule {}
