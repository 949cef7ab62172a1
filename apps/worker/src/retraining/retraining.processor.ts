import { Processor, WorkerHost } from '@nestjs/bullmq';
import { BeforeApplicationShutdown, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type { Job } from 'bullmq';
import { AppConfig } from '@app/config';
import {
  RETRAINING_QUEUE,
  RETRAINING_WORKER_OPTIONS,
  runBullMqJob,
  type RetrainingQueueJob,
} from '@app/queue';
import { RetrainingRunner } from '@app/retraining';

/**
 * The retraining queue's processor: unpacks the job and hands it to the retraining use case. It starts taking jobs
 * once the application is up (not while modules are still connecting), and at shutdown stops taking jobs, stops
 * the running one and hands it back within WORKER_SHUTDOWN_MS.
 */
@Processor(RETRAINING_QUEUE, { ...RETRAINING_WORKER_OPTIONS, autorun: false })
export class RetrainingProcessor
  extends WorkerHost
  implements OnApplicationBootstrap, BeforeApplicationShutdown
{
  private readonly logger = new Logger(RetrainingProcessor.name);
  private readonly shutdown = new AbortController();

  constructor(
    private readonly runner: RetrainingRunner,
    private readonly config: AppConfig,
  ) {
    super();
  }

  process(job: Job<RetrainingQueueJob['data']>, token?: string): Promise<unknown> {
    return runBullMqJob(job, token, this.shutdown.signal, (running) => this.runner.run(running));
  }

  onApplicationBootstrap(): void {
    this.worker.on('error', (error) => this.logger.error(`queue: ${error.message}`));
    // run() resolves only when the worker closes; it rejects when it cannot start (Redis refused, already running),
    // which must be logged, not left as an unhandled rejection. Readiness then reports the worker not running.
    this.worker
      .run()
      .catch((error: Error) => this.logger.error(`queue: the worker stopped: ${error.message}`));
    this.logger.log(`taking jobs from the "${RETRAINING_QUEUE}" queue`);
  }

  get running(): boolean {
    return this.worker.isRunning();
  }

  async beforeApplicationShutdown(): Promise<void> {
    const closing = this.worker.close();
    this.shutdown.abort();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), this.config.env.WORKER_SHUTDOWN_MS);
    });
    const outcome = await Promise.race([closing, deadline]);
    clearTimeout(timer);
    if (outcome === 'late') {
      this.logger.warn(
        `the running job did not stop within WORKER_SHUTDOWN_MS (${this.config.env.WORKER_SHUTDOWN_MS} ms): ` +
          'exiting; the queue hands it to another worker once its lock expires',
      );
    }
  }
}
