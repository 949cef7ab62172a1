import {
  BeforeApplicationShutdown,
  Injectable,
  OnApplicationBootstrap,
  Logger,
  OnApplicationShutdown,
  OnModuleDestroy,
} from '@nestjs/common';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { PredictionWriter, type PredictionRow } from '@app/database';
import { FlushScheduler } from '../common/flush.scheduler';
import { MetricsService } from '../metrics/metrics.service';

export type PredictionRecord = PredictionRow;

/**
 * Rows written per statement (SQLite: per transaction). Each chunk's values are converted on the event loop, so a
 * backlog is written a slice at a time, letting requests through between slices.
 */
const CHUNK = 250;

/** Too many predictions wait for the database: new ones are refused (503) rather than risk losing them. */
export class RecorderBackpressureError extends Error {
  constructor(readonly pending: number) {
    super(`The database is not keeping up (${pending} predictions waiting to be stored); retry shortly`);
    this.name = 'RecorderBackpressureError';
  }
}

/**
 * Persists predictions off the response path: a request appends to an in-memory buffer and returns; the buffer
 * is written in multi-row INSERTs every 200 ms, off the event loop where the driver allows (see PredictionWriter). A failed write keeps its rows and is retried with backoff, and
 * the buffer is drained before the database connection closes at shutdown.
 */
@Injectable()
export class PredictionRecorder
  implements OnApplicationBootstrap, BeforeApplicationShutdown, OnModuleDestroy, OnApplicationShutdown
{
  private readonly logger = new Logger(PredictionRecorder.name);
  /** Answered but not stored yet, by id, in the order they were answered (a Map keeps insertion order). */
  private readonly unsaved = new Map<string, PredictionRecord>();
  private readonly flusher = new FlushScheduler(
    () => this.writeAll(),
    (error) => {
      this.metrics.persistFailures.inc();
      this.logger.warn(`storing predictions failed (will retry): ${error.message}`);
    },
  );
  readonly capacity = 100_000;

  constructor(
    private readonly writer: PredictionWriter,
    private readonly metrics: MetricsService,
  ) {}

  get pending(): number {
    return this.unsaved.size;
  }

  /** Throws RecorderBackpressureError when the buffer is full; call before doing the work to be recorded. */
  assertCapacity(extra = 1): void {
    if (this.unsaved.size + extra > this.capacity) throw new RecorderBackpressureError(this.unsaved.size);
  }

  record(rows: PredictionRecord[]): void {
    for (const row of rows) {
      this.unsaved.set(row.id, row);
    }
    this.metrics.pendingRecords.set(this.unsaved.size);
    this.flusher.request();
  }

  /** A prediction answered but not stored yet, so that reading it back right away works. */
  find(id: string): PredictionRecord | undefined {
    return this.unsaved.get(id);
  }

  /** Writes everything buffered; resolves when the buffer is empty or rejects on a database error. */
  flush(): Promise<void> {
    return this.flusher.flush();
  }

  /** Readies the writer (its thread, on SQLite) before the first request; a failure is retried by the writes. */
  async onApplicationBootstrap(): Promise<void> {
    try {
      await this.writer.open();
    } catch (error) {
      this.logger.warn(
        `the prediction writer could not be readied (writes will retry): ${(error as Error).message}`,
      );
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.flusher.cancel();
    for (let attempt = 1; this.unsaved.size > 0; attempt++) {
      try {
        await this.flush();
      } catch (error) {
        if (attempt >= 5) {
          this.logger.error(
            `shutting down with ${this.unsaved.size} predictions not stored: ${(error as Error).message}`,
          );
          return;
        }
        await new Promise((done) => setTimeout(done, 200 * attempt));
      }
    }
  }

  onModuleDestroy(): void {
    this.flusher.cancel();
  }

  /** After the last flush (beforeApplicationShutdown): stops the writer's thread. */
  async onApplicationShutdown(): Promise<void> {
    await this.writer.close();
  }

  private async writeAll(): Promise<void> {
    while (this.unsaved.size > 0) {
      const chunk: PredictionRecord[] = [];
      for (const row of this.unsaved.values()) {
        if (chunk.push(row) === CHUNK) break;
      }
      await this.writer.insert(chunk);
      for (const row of chunk) this.unsaved.delete(row.id);
      this.metrics.persistedRecords.inc(chunk.length);
      this.metrics.pendingRecords.set(this.unsaved.size);
      if (this.unsaved.size > 0) await nextTurn();
    }
  }
}
