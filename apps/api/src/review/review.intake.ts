import { BeforeApplicationShutdown, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import type { ReviewCandidate } from '@app/review';
import { FlushScheduler } from '../common/flush.scheduler';
import { ReviewService } from './review.service';

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
  private dropped = 0;
  private readonly flusher = new FlushScheduler(
    () => this.admitAll(),
    (error) => this.logger.warn(`queueing listings for review failed (will retry): ${error.message}`),
  );

  constructor(private readonly review: ReviewService) {}

  offer(candidates: readonly ReviewCandidate[]): void {
    this.waiting.push(...candidates);
    if (this.waiting.length > CAPACITY) {
      this.dropped += this.waiting.length - CAPACITY;
      this.waiting.splice(0, this.waiting.length - CAPACITY);
    }
    this.flusher.request();
  }

  /** Admits everything offered so far. */
  flush(): Promise<void> {
    return this.flusher.flush();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.flusher.cancel();
    await this.flush().catch((error: Error) =>
      this.logger.error(`shutting down with ${this.waiting.length} listings not queued: ${error.message}`),
    );
  }

  onModuleDestroy(): void {
    this.flusher.cancel();
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
