import { Processor, WorkerHost } from '@nestjs/bullmq';
import { BeforeApplicationShutdown, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type { Job } from 'bullmq';
import type Redis from 'ioredis';
import { AppConfig } from '@app/config';
import {
  JobHandlers,
  RETRAINING_QUEUE,
  RETRAINING_WORKER_OPTIONS,
  runBullMqJob,
  type RetrainingQueueJob,
} from '@app/queue';
import { HealthCheck } from '@app/database';
import { TrainingWorkflow } from '@app/training';

/** How long a readiness probe waits for Redis to answer a PING. */
const QUEUE_PING_TIMEOUT_MS = 1_000;

/**
 * The retraining queue's processor: unpacks the job and hands it to its name's handler (JobHandlers). It starts taking jobs
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
    private readonly handlers: JobHandlers,
    private readonly training: TrainingWorkflow,
    private readonly config: AppConfig,
  ) {
    super();
  }

  async process(
    job: Job<RetrainingQueueJob['data'], unknown, RetrainingQueueJob['name']>,
    token?: string,
  ): Promise<unknown> {
    return runBullMqJob(job, token, this.shutdown.signal, this.handlers.get(job.name));
  }

  async onApplicationBootstrap(): Promise<void> {
    // A worker killed with SIGKILL cannot remove its training folder: the next start on this host does.
    const leftovers = await this.training.removeLeftovers(true);
    if (leftovers.length > 0) {
      this.logger.log(
        `removed ${leftovers.length} work directories of stopped runs: ${leftovers.join(', ')}`,
      );
    }
    this.worker.on('error', (error) => this.logger.error(`queue: ${error.message}`));
    // run() resolves only when the worker closes; it rejects when it cannot start (Redis refused, already running),
    // which must be logged, not left as an unhandled rejection. Readiness then reports the worker not running.
    this.worker
      .run()
      .catch((error: Error) => this.logger.error(`queue: the worker stopped: ${error.message}`));
    this.logger.log(`taking jobs from the "${RETRAINING_QUEUE}" queue`);
  }

  /**
   * Whether this worker can take jobs: it is running and its Redis connection answers. While Redis is away the
   * worker keeps running (and reconnecting), but takes nothing: not ready, with the reason.
   */
  async queueHealth(): Promise<HealthCheck> {
    if (!this.worker.isRunning()) return { status: 'down', detail: 'not taking jobs' };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<string>((resolve) => {
      timer = setTimeout(
        () => resolve(`Redis did not answer within ${QUEUE_PING_TIMEOUT_MS} ms`),
        QUEUE_PING_TIMEOUT_MS,
      );
    });
    const ping = async (): Promise<string | undefined> => {
      const client = await this.worker.client;
      if (client.status !== 'ready') return `Redis connection ${client.status}`;
      // The worker's connection is ioredis (BullMQ's default client).
      await (client as unknown as Redis).ping();
      return undefined;
    };
    try {
      const problem = await Promise.race([ping(), timeout]);
      return problem ? { status: 'down', detail: problem } : { status: 'up' };
    } catch (error) {
      return { status: 'down', detail: `Redis: ${(error as Error).message}` };
    } finally {
      clearTimeout(timer);
    }
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
