import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { AppConfig } from '@app/config';
import { PredictionImages } from '@app/feedback';

const SWEEP_INTERVAL_MS = 24 * 60 * 60 * 1000;

/**
 * Expires the prediction photos kept in the local artifact directory after PREDICTION_IMAGE_RETENTION_DAYS, at boot
 * and every 24 hours (on S3, the bucket's lifecycle rule on prediction-images/ does it, and this stops at once).
 * It runs whether or not photos are still being kept, so that turning KEEP_PREDICTION_IMAGES off lets them expire.
 */
@Injectable()
export class PredictionImageRetention implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(PredictionImageRetention.name);
  private timer?: NodeJS.Timeout;
  private sweeping?: Promise<void>;

  constructor(
    private readonly images: PredictionImages,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.sweep(), SWEEP_INTERVAL_MS).unref();
    // In the background: a large directory must not hold up the boot.
    void this.sweep();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.sweeping;
  }

  private sweep(): Promise<void> {
    this.sweeping ??= this.expire().finally(() => {
      this.sweeping = undefined;
    });
    return this.sweeping;
  }

  private async expire(): Promise<void> {
    const days = this.config.env.PREDICTION_IMAGE_RETENTION_DAYS;
    try {
      const deleted = await this.images.expire(days);
      if (deleted === null) clearInterval(this.timer);
      else if (deleted > 0)
        this.logger.log(`deleted ${deleted} prediction photos kept more than ${days} days`);
    } catch (error) {
      this.logger.warn(`expiring prediction photos failed (next try in 24 h): ${(error as Error).message}`);
    }
  }
}
