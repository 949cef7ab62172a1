import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Every metric of the API's own, on the process's registry (MetricsRegistryModule). */
@Injectable()
export class MetricsService {
  readonly httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by method, route template and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [],
  });

  readonly predictions = new Counter({
    name: 'predictions_total',
    help: 'Items classified, by model version and predicted product type code',
    labelNames: ['model_version', 'prdtypecode'] as const,
    registers: [],
  });

  readonly decisions = new Counter({
    name: 'prediction_decisions_total',
    help:
      'Items answered, by model version, decision (accept: above the threshold; review: below it) and where the ' +
      "threshold came from (version: derived from AUTO_ACCEPT_PRECISION; request: the caller's minConfidence)",
    labelNames: ['model_version', 'decision', 'threshold_source'] as const,
    registers: [],
  });

  readonly acceptThreshold = new Gauge({
    name: 'model_accept_threshold',
    help: 'Calibrated probability at or above which the loaded version accepts an answer automatically, by modality (1: none)',
    labelNames: ['model_version', 'modality'] as const,
    registers: [],
  });

  readonly modelLoads = new Counter({
    name: 'model_loads_total',
    help: 'Model loads (download, verify, load and warm-up) by version and result',
    labelNames: ['model_version', 'result'] as const,
    registers: [],
  });

  readonly modelLoadDuration = new Histogram({
    name: 'model_load_duration_seconds',
    help: 'Time to download, verify, load and warm a model version',
    buckets: [0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [],
  });

  readonly modelSwaps = new Counter({
    name: 'model_swaps_total',
    help: 'Times the serving model was replaced by another version',
    labelNames: ['from_version', 'to_version'] as const,
    registers: [],
  });

  readonly modelInfo = new Gauge({
    name: 'model_info',
    help: 'The model version this replica serves (value 1 for the loaded version)',
    labelNames: ['model_version'] as const,
    registers: [],
  });

  readonly scoringThreads = new Gauge({
    name: 'model_scoring_threads',
    help: 'Worker threads scoring text for the loaded model (0: scored on the event loop thread)',
    registers: [],
  });

  readonly pendingRecords = new Gauge({
    name: 'prediction_records_pending',
    help: 'Predictions answered but not yet written to the database',
    registers: [],
  });

  readonly persistedRecords = new Counter({
    name: 'prediction_records_persisted_total',
    help: 'Predictions written to the database',
    registers: [],
  });

  readonly persistFailures = new Counter({
    name: 'prediction_records_persist_failures_total',
    help: 'Failed attempts to write a batch of predictions (the batch is kept and retried)',
    registers: [],
  });

  readonly feedback = new Counter({
    name: 'feedback_total',
    help: 'Labels reported on predictions, by result: created, unchanged (same label again), overwritten (by an admin), conflict, rejected (unknown prediction or code)',
    labelNames: ['result'] as const,
    registers: [],
  });

  readonly predictionImages = new Counter({
    name: 'prediction_images_stored_total',
    help:
      'Photos sent with predictions, kept for training by result: stored, existing (already stored), dropped ' +
      '(the queue was full), failed (the store refused)',
    labelNames: ['result'] as const,
    registers: [],
  });

  // Live quality: every replica computes it from the database, so all export the same values (aggregate with max).
  readonly liveWeightedF1 = new Gauge({
    name: 'model_live_weighted_f1',
    help: 'Weighted F1 of a model version on its labelled predictions in the live window',
    labelNames: ['model_version'] as const,
    registers: [],
  });

  readonly liveMacroF1 = new Gauge({
    name: 'model_live_macro_f1',
    help: 'Macro F1 of a model version on its labelled predictions in the live window',
    labelNames: ['model_version'] as const,
    registers: [],
  });

  readonly liveAccuracy = new Gauge({
    name: 'model_live_accuracy',
    help: 'Accuracy of a model version on its labelled predictions in the live window',
    labelNames: ['model_version'] as const,
    registers: [],
  });

  readonly liveSamples = new Gauge({
    name: 'model_live_samples',
    help: 'Labelled predictions of a model version in the live window (LIVE_WINDOW_MINUTES, at most LIVE_WINDOW_SIZE)',
    labelNames: ['model_version'] as const,
    registers: [],
  });

  readonly liveThreshold = new Gauge({
    name: 'model_live_f1_threshold',
    help: 'LIVE_F1_THRESHOLD: the live weighted F1 under which ModelF1BelowThreshold fires',
    registers: [],
  });

  readonly liveMinSamples = new Gauge({
    name: 'model_live_min_samples',
    help: 'LIVE_MIN_SAMPLES: labelled predictions a version needs in the window before ModelF1BelowThreshold may fire',
    registers: [],
  });

  // Registered here rather than with `registers` in each field: fields are initialised before the injected
  // registry is assigned.
  constructor(readonly registry: Registry) {
    registry.registerMetric(this.httpDuration);
    registry.registerMetric(this.predictions);
    registry.registerMetric(this.decisions);
    registry.registerMetric(this.acceptThreshold);
    registry.registerMetric(this.modelLoads);
    registry.registerMetric(this.modelLoadDuration);
    registry.registerMetric(this.modelSwaps);
    registry.registerMetric(this.modelInfo);
    registry.registerMetric(this.scoringThreads);
    registry.registerMetric(this.pendingRecords);
    registry.registerMetric(this.persistedRecords);
    registry.registerMetric(this.persistFailures);
    registry.registerMetric(this.feedback);
    registry.registerMetric(this.liveWeightedF1);
    registry.registerMetric(this.liveMacroF1);
    registry.registerMetric(this.liveAccuracy);
    registry.registerMetric(this.liveSamples);
    registry.registerMetric(this.liveThreshold);
    registry.registerMetric(this.liveMinSamples);
    registry.registerMetric(this.predictionImages);
  }

  setLoadedVersion(version: string, thresholds: Record<string, number>): void {
    this.modelInfo.reset();
    this.modelInfo.set({ model_version: version }, 1);
    this.acceptThreshold.reset();
    for (const [modality, threshold] of Object.entries(thresholds)) {
      this.acceptThreshold.set({ model_version: version, modality }, threshold);
    }
  }
}
