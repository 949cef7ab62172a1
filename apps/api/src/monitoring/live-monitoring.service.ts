import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppConfig } from '@app/config';
import { LiveQuality, type LiveWindow, type VersionQuality } from '@app/feedback';
import { PRODUCT_TYPE_CODES } from '@app/ml';
import { MetricsService } from '../metrics/metrics.service';

/**
 * Computes live quality per model version from the labels in the database every LIVE_REFRESH_SECONDS and exports it.
 * Each replica computes the same figures from the same rows, so the alert rule takes max() across replicas
 * instead of one replica being elected to export them.
 */
@Injectable()
export class LiveMonitoringService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('LiveMonitoring');
  private readonly quality: LiveQuality;
  private timer?: NodeJS.Timeout;
  private refreshing?: Promise<VersionQuality[]>;

  constructor(
    @InjectDataSource() dataSource: DataSource,
    private readonly metrics: MetricsService,
    private readonly config: AppConfig,
  ) {
    this.quality = new LiveQuality(dataSource, PRODUCT_TYPE_CODES);
  }

  get window(): LiveWindow {
    const { LIVE_WINDOW_MINUTES, LIVE_WINDOW_SIZE, LIVE_MIN_SAMPLES } = this.config.env;
    return { minutes: LIVE_WINDOW_MINUTES, size: LIVE_WINDOW_SIZE, minSamples: LIVE_MIN_SAMPLES };
  }

  onModuleInit(): void {
    this.metrics.liveThreshold.set(this.config.env.LIVE_F1_THRESHOLD);
    this.metrics.liveMinSamples.set(this.config.env.LIVE_MIN_SAMPLES);
    const tick = () => {
      this.refresh()
        .catch((error: Error) => this.logger.warn(`live quality not refreshed: ${error.message}`))
        .finally(() => {
          if (this.timer) this.timer = setTimeout(tick, this.config.env.LIVE_REFRESH_SECONDS * 1000).unref();
        });
    };
    this.timer = setTimeout(tick, 0).unref();
  }

  onApplicationShutdown(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Computes the figures now and exports them; concurrent callers share one computation. */
  refresh(): Promise<VersionQuality[]> {
    this.refreshing ??= this.quality
      .compute(this.window)
      .then((qualities) => {
        this.export(qualities);
        return qualities;
      })
      .finally(() => {
        this.refreshing = undefined;
      });
    return this.refreshing;
  }

  private export(qualities: VersionQuality[]): void {
    const { liveWeightedF1, liveMacroF1, liveAccuracy, liveSamples } = this.metrics;
    // A version whose labels all left the window disappears, rather than keep its last figures.
    for (const gauge of [liveWeightedF1, liveMacroF1, liveAccuracy, liveSamples]) gauge.reset();
    for (const q of qualities) {
      const labels = { model_version: q.modelVersion };
      liveWeightedF1.set(labels, q.weightedF1);
      liveMacroF1.set(labels, q.macroF1);
      liveAccuracy.set(labels, q.accuracy);
      liveSamples.set(labels, q.samples);
    }
  }
}
