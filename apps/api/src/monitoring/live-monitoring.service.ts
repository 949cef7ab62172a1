import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppConfig } from '@app/config';
import { Gauge } from 'prom-client';
import {
  LiveQuality,
  REVIEW_SOURCES,
  SAMPLED_SOURCES,
  type LiveWindow,
  type VersionQuality,
} from '@app/feedback';
import { PRODUCT_TYPE_CODES } from '@app/ml';
import { MetricsService } from '../metrics/metrics.service';

export interface LiveFigures {
  /** From the labels of a random sample of traffic (consumer feedback, audit sample): what the alert reads. */
  sampled: VersionQuality[];
  /** From review labels (the uncertain end of the traffic): reported apart. */
  review: VersionQuality[];
}

/**
 * Computes live quality per model version from the labels in the database every LIVE_REFRESH_SECONDS and exports it.
 * Each replica computes the same figures from the same rows, so the alert rule takes max() across replicas
 * instead of one replica being elected to export them. model_live_* come from sampled labels only; review labels
 * are exported as model_review_label_*, since mixing them in would pull a healthy model under the threshold.
 */
@Injectable()
export class LiveMonitoringService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('LiveMonitoring');
  private readonly quality: LiveQuality;
  private readonly reviewQuality: LiveQuality;
  private readonly reviewWeightedF1: Gauge<'model_version'>;
  private readonly reviewSamples: Gauge<'model_version'>;
  private timer?: NodeJS.Timeout;
  private refreshing?: Promise<LiveFigures>;

  constructor(
    @InjectDataSource() dataSource: DataSource,
    private readonly metrics: MetricsService,
    private readonly config: AppConfig,
  ) {
    this.quality = new LiveQuality(dataSource, PRODUCT_TYPE_CODES, SAMPLED_SOURCES);
    this.reviewQuality = new LiveQuality(dataSource, PRODUCT_TYPE_CODES, REVIEW_SOURCES);
    const registers = [metrics.registry];
    this.reviewWeightedF1 = new Gauge({
      name: 'model_review_label_weighted_f1',
      help:
        'Weighted F1 of a model version on the review queue labels in the live window (the uncertain end of the ' +
        'traffic: not what the alert reads)',
      labelNames: ['model_version'],
      registers,
    });
    this.reviewSamples = new Gauge({
      name: 'model_review_label_samples',
      help: 'Review queue labels of a model version in the live window',
      labelNames: ['model_version'],
      registers,
    });
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
  refresh(): Promise<LiveFigures> {
    this.refreshing ??= Promise.all([
      this.quality.compute(this.window),
      this.reviewQuality.compute(this.window),
    ])
      .then(([sampled, review]) => {
        this.export(sampled);
        this.exportReview(review);
        return { sampled, review };
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

  private exportReview(qualities: VersionQuality[]): void {
    this.reviewWeightedF1.reset();
    this.reviewSamples.reset();
    for (const q of qualities) {
      this.reviewWeightedF1.set({ model_version: q.modelVersion }, q.weightedF1);
      this.reviewSamples.set({ model_version: q.modelVersion }, q.samples);
    }
  }
}
