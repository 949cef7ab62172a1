import { Module } from '@nestjs/common';
import { Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { AppConfig } from '@app/config';
import { RETRAINING_QUEUE_PORT, RetrainingQueueModule, type RetrainingQueue } from '@app/queue';
import { AlertTriggers } from './alert-triggers.service';
import { RetrainingJobs } from './retraining-jobs.service';
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
      inject: [DataSource, RETRAINING_QUEUE_PORT, RetrainingMetrics, AppConfig],
      useFactory: (
        dataSource: DataSource,
        queue: RetrainingQueue,
        metrics: RetrainingMetrics,
        config: AppConfig,
      ) => new RetrainingJobs(dataSource, queue, metrics, config.env.RETRAINING_COOLDOWN_MINUTES),
    },
    {
      provide: AlertTriggers,
      inject: [DataSource, RetrainingJobs, AppConfig, RetrainingMetrics],
      useFactory: (
        dataSource: DataSource,
        jobs: RetrainingJobs,
        config: AppConfig,
        metrics: RetrainingMetrics,
      ) => new AlertTriggers(dataSource, jobs, config.retrainingAlerts, metrics),
    },
  ],
  exports: [RetrainingJobs, RetrainingMetrics, AlertTriggers, RetrainingQueueModule],
})
export class RetrainingModule {}
