import { Module } from '@nestjs/common';
import { Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { RETRAINING_QUEUE_PORT, RetrainingQueueModule, type RetrainingQueue } from '@app/queue';
import { RetrainingJobs } from './retraining-jobs';
import { RetrainingMetrics } from './retraining.metrics';

/**
 * RetrainingJobs over the configured database and retraining queue, and the pipeline's metrics on the process's
 * registry (MetricsRegistryModule, which the app imports).
 */
@Module({
  imports: [RetrainingQueueModule],
  providers: [
    {
      provide: RetrainingMetrics,
      inject: [Registry, RETRAINING_QUEUE_PORT],
      useFactory: (registry: Registry, queue: RetrainingQueue) => new RetrainingMetrics(registry, queue),
    },
    {
      provide: RetrainingJobs,
      inject: [DataSource, RETRAINING_QUEUE_PORT, RetrainingMetrics],
      useFactory: (dataSource: DataSource, queue: RetrainingQueue, metrics: RetrainingMetrics) =>
        new RetrainingJobs(dataSource, queue, metrics),
    },
  ],
  exports: [RetrainingJobs, RetrainingMetrics, RetrainingQueueModule],
})
export class RetrainingModule {}
