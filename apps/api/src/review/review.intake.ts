import { BeforeApplicationShutdown, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import type { ReviewCandidate } from '@app/review';
import { ReviewService } from './review.service';

/** Automatic acceptance's verdict on an answer, when the answer carries one. */
export function decisionOf(answer: object): ReviewCandidate['decision'] {
  const decision = (answer as { decision?: unknown }).decision;
  return decision === 'accept' || decision === 'review' ? decision : undefined;
}

const FLUSH_INTERVAL_MS = 200;
const MAX_RETRY_DELAY_MS = 10_000;
/** Candidates waiting to be queued; past it the oldest are dropped (a listing missed, never a prediction). */
const CAPACITY = 50_000;

/**
 * Hands served predictions to the review queue off the response path: predict() appends and returns; the queue
 * admits them in batches every 200 ms (drawing the audit sample and keeping those sent to review), retrying with
 * backoff while the database is down, and once more at shutdown.
 */
@Injectable()
export class ReviewIntake implements BeforeApplicationShutdown, OnModuleDestroy {
  private readonly logger = new Logger(ReviewIntake.name);
  private waiting: ReviewCandidate[] = [];
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<void>;
  private failures = 0;
  private dropped = 0;

  constructor(private readonly review: ReviewService) {}

  offer(candidates: readonly ReviewCandidate[]): void {
    this.waiting.push(...candidates);
    if (this.waiting.length > CAPACITY) {
      this.dropped += this.waiting.length - CAPACITY;
      this.waiting.splice(0, this.waiting.length - CAPACITY);
    }
    this.schedule(FLUSH_INTERVAL_MS);
  }

  /** Admits everything offered so far. */
  flush(): Promise<void> {
    this.flushing ??= this.admitAll().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush().catch((error: Error) =>
      this.logger.error(`shutting down with ${this.waiting.length} listings not queued: ${error.message}`),
    );
  }

  onModuleDestroy(): void {
    clearTimeout(this.timer);
  }

  private schedule(delay: number): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush().then(
        () => {
          this.failures = 0;
        },
        (error: Error) => {
          this.failures++;
          this.logger.warn(`queueing listings for review failed (will retry): ${error.message}`);
          this.schedule(Math.min(MAX_RETRY_DELAY_MS, FLUSH_INTERVAL_MS * 2 ** this.failures));
        },
      );
    }, delay);
    this.timer.unref();
  }

  private async admitAll(): Promise<void> {
    if (this.dropped > 0) {
      this.logger.warn(`${this.dropped} listings were not queued for review: the database did not keep up`);
      this.dropped = 0;
    }
    while (this.waiting.length > 0) {
      const batch = this.waiting.slice(0, 1000);
      await this.review.queue.admit(batch);
      this.waiting.splice(0, batch.length);
    }
  }
}
