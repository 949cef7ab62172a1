import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { AppConfig } from '@app/config';
import { JobHandlersModule, RETRAINING_QUEUE } from '@app/queue';
import { redisOptionsFromUrl } from '@app/redis';
import { RetrainingRunnerModule } from '@app/retraining';
import { RetrainingProcessor } from './retraining.processor';
import { WorkerPromotionModule } from './worker-promotion.module';

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
    RetrainingRunnerModule.register({ promotion: [WorkerPromotionModule] }),
    JobHandlersModule,
  ],
  providers: [RetrainingProcessor],
  exports: [RetrainingProcessor],
})
export class RetrainingWorkerModule {}
