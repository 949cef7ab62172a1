import { Queue, type ConnectionOptions } from 'bullmq';
import {
  QueueUnavailableError,
  RETRAINING_QUEUE,
  type EnqueueResult,
  type QueueCounts,
  type RetrainingQueue,
  type RetrainingQueueJob,
} from './retraining-queue.types';
import {
  RETRAINING_DEDUPLICATION_ID,
  RETRAINING_GLOBAL_CONCURRENCY,
  RETRAINING_JOB_OPTIONS,
} from './retraining-queue.options';

/**
 * The one bound on a queue operation while Redis is away: a connection known to be down fails at once, one that
 * hangs fails after this long, both with the same message (the caller answers 503).
 */
export const REDIS_COMMAND_TIMEOUT_MS = 2_000;

/**
 * The production driver: BullMQ over Redis. Jobs are processed by the worker process (apps/worker), never here.
 * The job's BullMQ id is the id of its `retraining_jobs` row, so either side can find the other.
 */
export class BullMqRetrainingQueue implements RetrainingQueue {
  readonly driver = 'bullmq';
  private readonly queue: Queue<RetrainingQueueJob['data'], unknown, RetrainingQueueJob['name']>;
  private concurrencySet?: Promise<unknown>;

  constructor(connection: ConnectionOptions, prefix?: string) {
    this.queue = new Queue(RETRAINING_QUEUE, { connection, ...(prefix && { prefix }) });
    // Without a listener, a Redis outage is an unhandled 'error' event; outages surface through enqueue and counts.
    this.queue.on('error', () => undefined);
  }

  async enqueue(jobId: string): Promise<EnqueueResult> {
    return this.withRedis('enqueue the retraining job', async () => {
      this.concurrencySet ??= this.queue.setGlobalConcurrency(RETRAINING_GLOBAL_CONCURRENCY);
      await this.concurrencySet;
      // A deduplicated add answers the waiting job's id: that job absorbs this request.
      const job = await this.queue.add(
        'retrain',
        {},
        { ...RETRAINING_JOB_OPTIONS, jobId, deduplication: { id: RETRAINING_DEDUPLICATION_ID } },
      );
      return { jobId: job.id!, deduplicated: job.id !== jobId };
    });
  }

  async remove(jobId: string): Promise<boolean> {
    // A running job holds a lock: BullMQ refuses to remove it (0). Removing a waiting job frees its deduplication key.
    return this.withRedis('remove the retraining job', async () => (await this.queue.remove(jobId)) === 1);
  }

  async counts(): Promise<QueueCounts> {
    return this.withRedis('read the queue', async () => {
      const c = await this.queue.getJobCounts(
        'waiting',
        'active',
        'delayed',
        'completed',
        'failed',
        'paused',
      );
      return {
        waiting: (c.waiting ?? 0) + (c.paused ?? 0),
        active: c.active ?? 0,
        delayed: c.delayed ?? 0,
        completed: c.completed ?? 0,
        failed: c.failed ?? 0,
      };
    });
  }

  /** Closes the connection; with Redis down, BullMQ's close would wait for a reconnection that never comes. */
  async close(): Promise<void> {
    await this.withRedis('close the queue', () => this.queue.close(), false).catch(() =>
      this.queue.disconnect(),
    );
  }

  /**
   * Runs `work` against Redis with one message and one time bound for every way Redis can be away: refused or
   * reconnecting (fails at once, rather than after ioredis's own retries), or silent (fails after the timeout).
   */
  private async withRedis<T>(what: string, work: () => Promise<T>, whenConnected = true): Promise<T> {
    const unavailable = (cause?: unknown) =>
      new QueueUnavailableError(`could not ${what}: the queue (Redis) is unreachable`, cause);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(unavailable()), REDIS_COMMAND_TIMEOUT_MS);
    });
    const connected = async () => {
      if (!whenConnected) return work();
      const client = await this.queue.client;
      if (client.status !== 'ready') throw unavailable(new Error(`connection ${client.status}`));
      return work();
    };
    try {
      return await Promise.race([connected(), timeout]);
    } catch (error) {
      if (error instanceof QueueUnavailableError) throw error;
      throw unavailable(error);
    } finally {
      clearTimeout(timer);
    }
  }
}
