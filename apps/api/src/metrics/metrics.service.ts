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

  readonly predictionImages = new Counter({
    name: 'prediction_images_stored_total',
    help:
      'Photos sent with predictions, kept for training by result: stored, existing (already stored), dropped ' +
      '(the queue was full), failed (the store refused)',
    labelNames: ['result'] as const,
    registers: [],
  });

  // Registered here rather than with `registers` in each field: fields are initialised before the injected
  // registry is assigned.
  constructor(readonly registry: Registry) {
    registry.registerMetric(this.httpDuration);
    registry.registerMetric(this.predictions);
    registry.registerMetric(this.modelLoads);
    registry.registerMetric(this.modelLoadDuration);
    registry.registerMetric(this.modelSwaps);
    registry.registerMetric(this.modelInfo);
    registry.registerMetric(this.scoringThreads);
    registry.registerMetric(this.pendingRecords);
    registry.registerMetric(this.persistedRecords);
    registry.registerMetric(this.persistFailures);
    registry.registerMetric(this.predictionImages);
  }

  setLoadedVersion(version: string): void {
    this.modelInfo.reset();
    this.modelInfo.set({ model_version: version }, 1);
  }
}
