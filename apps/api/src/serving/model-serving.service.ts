import { Injectable, Logger, OnApplicationShutdown, Optional } from '@nestjs/common';
import { join, resolve } from 'node:path';
import { AppConfig, LogContext } from '@app/config';
import {
  acceptanceThresholds,
  BackboneThreadPool,
  DEFAULT_CATEGORY_NAMES,
  ImageDecoder,
  ProductClassifier,
  type DecodedItem,
  type Modality,
} from '@app/ml';
import { DriftMonitor, type VersionDrift } from '@app/drift';
import { ModelRegistry } from '@app/registry';
import { MetricsService } from '../metrics/metrics.service';

/** A loaded model version. Disposed once it is retired and the last request using it has finished. */
export class ServingModel {
  private leases = 0;
  private retired = false;

  constructor(
    readonly version: string,
    readonly classifier: ProductClassifier,
    readonly loadedAt: Date,
    /** Per modality, the calibrated probability at or above which an answer is accepted (1: none is). */
    readonly thresholds: Record<Modality, number>,
    /** Its drift reference, thresholds and window; null when its artifact has none or the watch is off. */
    readonly drift: VersionDrift | null = null,
  ) {}

  lease(): () => void {
    this.leases++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.leases--;
      this.disposeIfIdle();
    };
  }

  retire(): void {
    this.retired = true;
    this.disposeIfIdle();
  }

  private disposeIfIdle(): void {
    if (this.retired && this.leases === 0) this.classifier.dispose();
  }
}

/** Nothing is loaded yet: the API answers 503 until the first production model is in memory. */
export class NoModelLoadedError extends Error {
  constructor() {
    super('No model is loaded yet: the service is starting or no model has been promoted to production');
    this.name = 'NoModelLoadedError';
  }
}

/**
 * Holds the model that answers predictions and replaces it without downtime: a new version is downloaded,
 * verified, loaded and warmed beside the old one, then swapped in with one assignment; requests already running
 * keep the model they started with.
 */
@Injectable()
export class ModelServingService implements OnApplicationShutdown {
  private readonly logger = new Logger(ModelServingService.name);
  private active?: ServingModel;
  /** Loaded but not yet serving: a promotion loads its candidate before the pointer moves. */
  private readonly prepared = new Map<string, Promise<ServingModel>>();
  /** Serialises swaps so that two notifications in quick succession cannot interleave. */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly cacheRoot: string;
  private readonly scoringThreads: number;
  private readonly targetPrecision: number;

  constructor(
    private readonly registry: ModelRegistry,
    private readonly metrics: MetricsService,
    private readonly imageDecoder: ImageDecoder,
    config: AppConfig,
    // Optional for tests that build the service by hand: the classifiers then run the backbone in this thread.
    @Optional() private readonly backbones?: BackboneThreadPool,
    @Optional() private readonly driftMonitor?: DriftMonitor,
  ) {
    this.cacheRoot = join(resolve(config.env.VAR_DIR), 'model-cache');
    this.scoringThreads = config.env.SCORING_THREADS;
    this.targetPrecision = config.env.AUTO_ACCEPT_PRECISION;
  }

  get current(): ServingModel | undefined {
    return this.active;
  }

  /**
   * A code's name for people: the served model's, unless it knows the code only (trained without a names file),
   * then the shipped name.
   */
  categoryName(prdtypecode: number): string {
    const own = this.active?.classifier.categoryName(prdtypecode);
    if (own && own !== String(prdtypecode)) return own;
    return DEFAULT_CATEGORY_NAMES[prdtypecode] ?? String(prdtypecode);
  }

  /** The active model, leased until release() is called. */
  acquire(): { model: ServingModel; release: () => void } {
    const model = this.active;
    if (!model) throw new NoModelLoadedError();
    return { model, release: model.lease() };
  }

  /**
   * Loads a version without serving it, so that a promotion can prove the version works before the production
   * pointer moves. Loading the same version twice shares one load.
   */
  prepare(version: string): Promise<ServingModel> {
    if (this.active?.version === version) return Promise.resolve(this.active);
    let loading = this.prepared.get(version);
    if (!loading) {
      loading = LogContext.run({ modelVersion: version }, () => this.load(version));
      this.prepared.set(version, loading);
      loading.catch(() => this.prepared.delete(version));
    }
    return loading;
  }

  /** Drops a prepared version that will not serve after all (its promotion failed). */
  discard(version: string): void {
    const loading = this.prepared.get(version);
    if (!loading) return;
    this.prepared.delete(version);
    loading.then((model) => model.retire()).catch(() => undefined);
  }

  /** Makes `version` the serving model (loading it first if needed); no-op when it already serves. */
  activate(version: string): Promise<void> {
    const swap = async () => {
      if (this.active?.version === version) return;
      const next = await this.prepare(version);
      this.prepared.delete(version);
      const previous = this.active;
      this.active = next;
      this.metrics.setLoadedVersion(version, next.thresholds);
      this.metrics.scoringThreads.set(next.classifier.scoringThreads);
      this.driftMonitor?.track(version, next.drift);
      if (previous) {
        this.driftMonitor?.forget(previous.version);
        this.metrics.modelSwaps.inc({ from_version: previous.version, to_version: version });
        previous.retire();
      }
      this.logger.log(`serving model ${version}${previous ? ` (was ${previous.version})` : ''}`);
    };
    const run = this.queue.then(() => LogContext.run({ modelVersion: version }, swap));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Brings this replica to the registry's production version. */
  async syncWithRegistry(): Promise<void> {
    const { version } = await this.registry.production();
    if (version && version !== this.active?.version) await this.activate(version);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.queue;
    for (const loading of this.prepared.values()) {
      loading.then((model) => model.retire()).catch(() => undefined);
    }
    this.active?.retire();
    this.backbones?.dispose();
  }

  private async load(version: string): Promise<ServingModel> {
    const stop = this.metrics.modelLoadDuration.startTimer();
    try {
      const dir = await this.registry.fetch(version, this.cacheRoot);
      const classifier = await ProductClassifier.load(dir, {
        scoringThreads: this.scoringThreads,
        imageDecoder: this.imageDecoder,
        backbones: this.backbones,
        onThreadError: (message) => this.logger.error(`model ${version}: ${message}`),
      });
      await warmUp(classifier);
      const drift = await this.loadDrift(version, dir);
      stop();
      this.metrics.modelLoads.inc({ model_version: version, result: 'success' });
      // Each version keeps the promise with its own curve: a better-calibrated version accepts more.
      const thresholds = acceptanceThresholds(classifier.calibration, this.targetPrecision);
      return new ServingModel(version, classifier, new Date(), thresholds, drift);
    } catch (error) {
      this.metrics.modelLoads.inc({ model_version: version, result: 'failure' });
      this.logger.error(`model ${version} cannot be loaded: ${(error as Error).message}`);
      throw error;
    }
  }

  /** A version whose drift reference is missing or unreadable still serves; it is only not watched. */
  private async loadDrift(version: string, dir: string): Promise<VersionDrift | null> {
    if (!this.driftMonitor) return null;
    try {
      const drift = await this.driftMonitor.load(version, dir);
      if (!drift && this.driftMonitor.enabled) {
        this.logger.warn(
          `model ${version} has no drift reference: its predictions are not watched for drift`,
        );
      }
      return drift;
    } catch (error) {
      this.logger.error(
        `model ${version}: ${(error as Error).message}; its predictions are not watched for drift`,
      );
      return null;
    }
  }
}

/** Runs every code path once so that the first real request does not pay for lazy initialisation. */
async function warmUp(classifier: ProductClassifier): Promise<void> {
  const items: DecodedItem[] = [
    { text: { designation: 'Chargeur universel', description: 'Compatible avec tous les modèles' } },
  ];
  const size = classifier.imageSize;
  if (size)
    items.push(
      { pixels: new Uint8Array(size * size * 3) },
      { ...items[0], pixels: new Uint8Array(size * size * 3) },
    );
  await classifier.score(items);
}
