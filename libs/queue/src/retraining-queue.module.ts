import { Global, Inject, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '@app/config';
import { redisOptionsFromUrl } from '@app/redis';
import { BullMqRetrainingQueue } from './bullmq-retraining.queue';
import { InProcessRetrainingQueue } from './in-process-retraining.queue';
import { RETRAINING_QUEUE_PORT, type RetrainingQueue } from './retraining-queue.types';

/** Closes the queue's connections (or stops the in-process runner) when the application shuts down. */
@Injectable()
class RetrainingQueueCloser implements OnApplicationShutdown {
  constructor(@Inject(RETRAINING_QUEUE_PORT) private readonly queue: RetrainingQueue) {}

  async onApplicationShutdown(): Promise<void> {
    await this.queue.close();
  }
}

/** The retraining queue for enqueuing: BullMQ with REDIS_URL, else the in-process driver (embedded mode). */
@Global()
@Module({
  providers: [
    {
      provide: RETRAINING_QUEUE_PORT,
      inject: [AppConfig],
      useFactory: (config: AppConfig): RetrainingQueue =>
        config.env.REDIS_URL
          ? new BullMqRetrainingQueue(
              redisOptionsFromUrl(config.env.REDIS_URL, { maxRetriesPerRequest: 1 }),
              config.env.QUEUE_PREFIX,
            )
          : new InProcessRetrainingQueue(),
    },
    RetrainingQueueCloser,
  ],
  exports: [RETRAINING_QUEUE_PORT],
})
export class RetrainingQueueModule {}
