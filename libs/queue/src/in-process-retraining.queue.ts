import { Logger } from '@nestjs/common';
import {
  JobCancelledError,
  JobInterruptedError,
  PermanentJobError,
  type EnqueueResult,
  type JobHandler,
  type ProcessingQueue,
  type QueueCounts,
} from './retraining-queue.types';
import { RETRAINING_JOB_OPTIONS } from './retraining-queue.options';

interface Entry {
  id: string;
  attempt: number;
}

/**
 * The embedded mode's driver (no REDIS_URL): jobs run one at a time in this process, with the same rules as the
 * BullMQ driver: at most one running and one waiting, retries with exponential backoff, permanent errors fail at
 * once. Nothing survives a restart here: the job rows in the database say what was interrupted.
 */
export class InProcessRetrainingQueue implements ProcessingQueue {
  readonly driver = 'in-process';
  private readonly logger = new Logger('RetrainingQueue');
  private readonly waiting: Entry[] = [];
  private readonly delayed = new Map<string, NodeJS.Timeout>();
  private active?: Entry;
  private handler?: JobHandler;
  private readonly shutdown = new AbortController();
  private idle: Promise<void> = Promise.resolve();
  private completed = 0;
  private failed = 0;

  constructor(private readonly backoffMs = backoffDelay()) {}

  async enqueue(jobId: string): Promise<EnqueueResult> {
    if (this.shutdown.signal.aborted) throw new JobInterruptedError('the service is shutting down');
    const absorbing = this.waiting[0];
    if (absorbing) return { jobId: absorbing.id, deduplicated: true };
    this.waiting.push({ id: jobId, attempt: 1 });
    this.drain();
    return { jobId, deduplicated: false };
  }

  async remove(jobId: string): Promise<boolean> {
    const index = this.waiting.findIndex((entry) => entry.id === jobId);
    if (index >= 0) {
      this.waiting.splice(index, 1);
      return true;
    }
    const timer = this.delayed.get(jobId);
    if (!timer) return false;
    clearTimeout(timer);
    this.delayed.delete(jobId);
    return true;
  }

  work(handler: JobHandler): void {
    this.handler = handler;
    this.drain();
  }

  async counts(): Promise<QueueCounts> {
    return {
      waiting: this.waiting.length,
      active: this.active ? 1 : 0,
      delayed: this.delayed.size,
      completed: this.completed,
      failed: this.failed,
    };
  }

  /** Interrupts the running job (its handler sees the abort) and waits for it to stop. */
  async close(): Promise<void> {
    this.shutdown.abort();
    for (const timer of this.delayed.values()) clearTimeout(timer);
    this.delayed.clear();
    await this.idle;
  }

  private drain(): void {
    if (this.active || !this.handler || this.shutdown.signal.aborted) return;
    const next = this.waiting.shift();
    if (!next) return;
    this.active = next;
    this.idle = this.run(next, this.handler).finally(() => {
      this.active = undefined;
      this.drain();
    });
  }

  private async run(entry: Entry, handler: JobHandler): Promise<void> {
    const maxAttempts = RETRAINING_JOB_OPTIONS.attempts ?? 1;
    try {
      await handler({
        id: entry.id,
        attempt: entry.attempt,
        maxAttempts,
        signal: this.shutdown.signal,
        reportProgress: async () => undefined,
      });
      this.completed++;
    } catch (error) {
      const message = (error as Error).message;
      if (error instanceof JobInterruptedError) return;
      if (error instanceof JobCancelledError) {
        this.logger.log(`retraining job ${entry.id}: ${message}`);
        return;
      }
      if (error instanceof PermanentJobError || entry.attempt >= maxAttempts) {
        this.failed++;
        this.logger.error(`retraining job ${entry.id} failed: ${message}`);
        return;
      }
      const delay = this.backoffMs * 2 ** (entry.attempt - 1);
      this.logger.warn(
        `retraining job ${entry.id} attempt ${entry.attempt} failed (${message}); retry in ${delay} ms`,
      );
      this.delayed.set(
        entry.id,
        setTimeout(() => {
          this.delayed.delete(entry.id);
          this.waiting.unshift({ id: entry.id, attempt: entry.attempt + 1 });
          this.drain();
        }, delay),
      );
    }
  }
}

function backoffDelay(): number {
  const { backoff } = RETRAINING_JOB_OPTIONS;
  return typeof backoff === 'object' ? (backoff.delay ?? 0) : (backoff ?? 0);
}
