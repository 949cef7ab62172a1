import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { JobHandlers, RETRAINING_QUEUE_PORT, type ProcessingQueue, type RetrainingQueue } from '@app/queue';
import { RetrainingJobs } from '@app/retraining';
import { TrainingWorkflow } from '@app/training';

/**
 * The embedded mode (no REDIS_URL): this process runs the retraining jobs itself, one at a time, each training in a
 * child process so that the API keeps answering. With Redis, the worker process runs them and this does nothing.
 * The in-process queue starts empty: at start, the jobs the previous process held (stopped by SIGTERM while queued
 * or training, or killed) run again or end as failed (RetrainingJobs.recoverInterrupted), as BullMQ hands a dead
 * worker's job to the next one; the work directories a killed process left behind are removed.
 */
@Injectable()
export class EmbeddedRetrainingService implements OnApplicationBootstrap {
  private readonly logger = new Logger('Retraining');

  constructor(
    @Inject(RETRAINING_QUEUE_PORT) private readonly queue: RetrainingQueue,
    private readonly jobs: RetrainingJobs,
    private readonly training: TrainingWorkflow,
    private readonly handlers: JobHandlers,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.queue.driver !== 'in-process') return;
    const leftovers = await this.training.removeLeftovers(true);
    if (leftovers.length > 0) {
      this.logger.log(
        `removed ${leftovers.length} work directories of stopped runs: ${leftovers.join(', ')}`,
      );
    }
    // The in-process queue carries one kind of job.
    (this.queue as ProcessingQueue).work(this.handlers.get('retrain'));
    const { resumed, failed } = await this.jobs.recoverInterrupted();
    if (resumed.length > 0)
      this.logger.log(`jobs interrupted by the last stop, run again: ${resumed.join(', ')}`);
    if (failed.length > 0)
      this.logger.warn(`jobs interrupted by the last stop, ended as failed: ${failed.join(', ')}`);
  }
}
