import { Injectable } from '@nestjs/common';
import { Gauge, Registry } from 'prom-client';
import { DriftMonitor } from '@app/drift';

/**
 * The drift watch on /metrics, computed from the windows at scrape time (the windows keep running counts, so a
 * scrape costs a pass over the classes, not over the predictions). Labels are the served version and one of the six
 * signal names: bounded. A version this replica stopped serving leaves the series.
 */
@Injectable()
export class DriftMetrics {
  private readonly signal = new Gauge({
    name: 'model_drift_signal',
    help: "A drift signal of a served version's prediction window against its reference (Jensen-Shannon distance, or the drop in estimated F1)",
    labelNames: ['model_version', 'signal'] as const,
    registers: [],
    collect: () => this.collect(),
  });

  private readonly threshold = new Gauge({
    name: 'model_drift_threshold',
    help: 'The value above which a drift signal alerts: the DRIFT_QUANTILE quantile of the signal on windows drawn from the reference (present once the window is judged)',
    labelNames: ['model_version', 'signal'] as const,
    registers: [],
  });

  private readonly window = new Gauge({
    name: 'model_drift_window_predictions',
    help: "Predictions in a served version's drift window (at most DRIFT_WINDOW)",
    labelNames: ['model_version'] as const,
    registers: [],
  });

  private readonly minWindow = new Gauge({
    name: 'model_drift_min_window',
    help: 'DRIFT_MIN_WINDOW: predictions a window needs before ModelDrift may fire',
    registers: [],
  });

  private readonly estimatedF1 = new Gauge({
    name: 'model_estimated_weighted_f1',
    help: "Weighted F1 estimated from the calibrated probabilities of a served version's window (no labels needed)",
    labelNames: ['model_version'] as const,
    registers: [],
  });

  constructor(
    private readonly monitor: DriftMonitor,
    registry: Registry,
  ) {
    for (const metric of [this.signal, this.threshold, this.window, this.minWindow, this.estimatedF1]) {
      registry.registerMetric(metric);
    }
  }

  /** Runs before the first drift metric is written: fills all five from one report per version. */
  private collect(): void {
    for (const gauge of [this.signal, this.threshold, this.window, this.estimatedF1]) gauge.reset();
    this.minWindow.set(this.monitor.settings.minWindow);
    for (const report of this.monitor.reports()) {
      if (!report.hasReference) continue;
      const model_version = report.modelVersion;
      this.window.set({ model_version }, report.predictions);
      if (report.estimatedF1 !== null) this.estimatedF1.set({ model_version }, report.estimatedF1);
      for (const { signal, value, threshold } of report.signals) {
        this.signal.set({ model_version, signal }, value);
        if (threshold !== null) this.threshold.set({ model_version, signal }, threshold);
      }
    }
  }
}
