import { Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { RETRAINING_QUEUE_PORT, RetrainingQueueModule, type RetrainingQueue } from '@app/queue';
import { RetrainingJobs } from './retraining-jobs';

/** RetrainingJobs over the configured database and retraining queue. */
@Module({
  imports: [RetrainingQueueModule],
  providers: [
    {
      provide: RetrainingJobs,
      inject: [DataSource, RETRAINING_QUEUE_PORT],
      useFactory: (dataSource: DataSource, queue: RetrainingQueue) => new RetrainingJobs(dataSource, queue),
    },
  ],
  exports: [RetrainingJobs, RetrainingQueueModule],
})
export class RetrainingModule {}
