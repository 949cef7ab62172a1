import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '@app/config';
import { PredictionImages } from '@app/feedback';
import { MetricsService } from '../metrics/metrics.service';

/** Photos saved at a time: enough to keep up with S3's latency, few enough not to compete with predictions. */
const CONCURRENCY = 4;
/**
 * Bytes of photos waiting or being saved. Past it a new photo is dropped: the store is slow or down, and memory is
 * worth more than a photo (a label can still train the text models). 64 MiB is about 600 photos of 100 KB.
 */
const MAX_PENDING_BYTES = 64 * 1024 * 1024;
/** A store that is down would log a line per photo: one line at most this often, with the counts since. */
const WARNING_INTERVAL_MS = 60_000;
/** At shutdown, the time photos still waiting get to be saved. */
const SHUTDOWN_WAIT_MS = 5_000;

interface PendingImage {
  bytes: Buffer;
  sha: string;
}

/**
 * Keeps the photos sent with predictions (KEEP_PREDICTION_IMAGES) in the artifact store, off the response path:
 * keep() queues the photo and returns; a few saves run at a time after the response. A prediction never waits for
 * its photo, and never fails because of it: a photo the queue has no room for is dropped, counted and logged.
 */
@Injectable()
export class PredictionImageSaver implements BeforeApplicationShutdown {
  private readonly logger = new Logger(PredictionImageSaver.name);
  private readonly enabled: boolean;
  private readonly waiting: PendingImage[] = [];
  /** Hashes waiting or being saved: a photo sent again in the meantime is not saved twice. */
  private readonly pending = new Set<string>();
  private pendingBytes = 0;
  private active = 0;
  private idleWaiters: (() => void)[] = [];
  private readonly unreported = { dropped: 0, failed: 0 };
  private lastWarning = -Infinity;

  constructor(
    private readonly images: PredictionImages,
    private readonly metrics: MetricsService,
    config: AppConfig,
  ) {
    this.enabled = config.env.KEEP_PREDICTION_IMAGES;
  }

  /** Queues a photo (its bytes and their sha256) to be kept; returns at once and never throws. */
  keep(bytes: Buffer, sha: string): void {
    if (!this.enabled) return;
    if (this.pending.has(sha)) {
      this.metrics.predictionImages.inc({ result: 'existing' });
      return;
    }
    if (this.pendingBytes + bytes.byteLength > MAX_PENDING_BYTES) {
      this.problem('dropped', `${this.pending.size} photos already wait`);
      return;
    }
    this.pending.add(sha);
    this.pendingBytes += bytes.byteLength;
    this.waiting.push({ bytes, sha });
    // After the response is written: the request's own work comes first.
    setImmediate(() => this.pump());
  }

  /** Resolves once every photo queued so far is saved or has failed. */
  idle(): Promise<void> {
    if (this.pending.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.pending.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), SHUTDOWN_WAIT_MS);
    });
    const outcome = await Promise.race([this.idle(), late]);
    clearTimeout(timer);
    if (outcome === 'late')
      this.logger.warn(`shutting down with ${this.pending.size} prediction photos not kept`);
  }

  private pump(): void {
    while (this.active < CONCURRENCY && this.waiting.length > 0) {
      const image = this.waiting.shift()!;
      this.active++;
      void this.save(image).finally(() => {
        this.active--;
        this.pending.delete(image.sha);
        this.pendingBytes -= image.bytes.byteLength;
        if (this.pending.size === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
        this.pump();
      });
    }
  }

  private async save({ bytes, sha }: PendingImage): Promise<void> {
    try {
      const { result } = await this.images.save(bytes, sha);
      this.metrics.predictionImages.inc({ result });
    } catch (error) {
      this.problem('failed', (error as Error).message);
    }
  }

  private problem(result: 'dropped' | 'failed', detail: string): void {
    this.metrics.predictionImages.inc({ result });
    this.unreported[result]++;
    const now = Date.now();
    if (now - this.lastWarning < WARNING_INTERVAL_MS) return;
    this.lastWarning = now;
    const { dropped, failed } = this.unreported;
    this.logger.warn(
      `prediction photos not kept since the last warning: ${dropped} dropped (queue full), ${failed} failed ` +
        `(latest: ${detail}); the predictions are unaffected, prediction_images_stored_total counts them all`,
    );
    this.unreported.dropped = 0;
    this.unreported.failed = 0;
  }
}
