import { Logger } from '@nestjs/common';
import { resolve } from 'node:path';
import type { DataSource } from 'typeorm';
import { LogContext, type AppConfig } from '@app/config';
import { FeedbackExamples, PredictionImages } from '@app/feedback';
import { DatasetError, DEFAULT_PROMOTION_GATE, demoCatalogueDir, type PromotionGateOptions } from '@app/ml';
import {
  JobCancelledError,
  JobInterruptedError,
  OnJob,
  PermanentJobError,
  type RunningJob,
} from '@app/queue';
import type { ModelRegistry } from '@app/registry';
import { artifactStoreLocation, type ArtifactStore, type ArtifactStoreLocation } from '@app/storage';
import {
  fetchDataFromStore,
  type FeedbackFile,
  type TrainingProgress,
  type TrainingWorkflow,
} from '@app/training';
import {
  RetrainingJobNotFoundError,
  type RetrainingJobs,
  type RetrainingJobView,
} from './retraining-jobs.service';
import type { RetrainingMetrics } from './retraining.metrics';
import { gateRules, trainOptions } from './retraining-params.util';

export interface RetrainingRunnerSettings {
  /** The base training set (a Rakuten-layout folder). */
  dataDir?: string;
  /** Else the same layout in the artifact store under a prefix, copied to VAR_DIR first; neither: jobs fail at once. */
  dataStore?: { store: ArtifactStore; prefix: string };
  /** The cache of downloaded production models (scored by the gate beside the candidate). */
  varDir: string;
  gate?: PromotionGateOptions;
  /**
   * The labelled predictions to train on besides the base set, their photos, and how many of the most recent labels
   * the gate holds out (GATE_RECENT_FEEDBACK). Unset: the base set alone.
   */
  feedback?: { examples: FeedbackExamples; images: PredictionImages; recent: number };
  /** The artifact store where the training process caches image features by photo hash. */
  featureStore?: ArtifactStoreLocation;
}

export interface RetrainingOutcome {
  /** null when the job was skipped (see TrainingParams.onlyIfEmpty). */
  version: string | null;
  promoted: boolean;
  /** The gate's reasons for promoting, or for keeping the version as a candidate. */
  reasons: string[];
}

/**
 * A runner's settings from the validated configuration: DATA_DIR or DATA_S3_PREFIX, VAR_DIR, GATE_* and
 * GATE_RECENT_FEEDBACK, with the labelled predictions in the database and their photos in the store.
 */
export function retrainingSettings(
  config: AppConfig,
  store: ArtifactStore,
  dataSource: DataSource,
): RetrainingRunnerSettings {
  const { DATA_DIR, DATA_S3_PREFIX, VAR_DIR, GATE_RECENT_FEEDBACK } = config.env;
  return {
    dataDir: DATA_DIR,
    ...(DATA_S3_PREFIX && { dataStore: { store, prefix: DATA_S3_PREFIX } }),
    varDir: VAR_DIR,
    gate: config.gate,
    featureStore: artifactStoreLocation(config),
    feedback: {
      examples: new FeedbackExamples(dataSource),
      images: new PredictionImages(store),
      recent: GATE_RECENT_FEEDBACK,
    },
  };
}

/** Progress is written to the job row at most this often (every epoch would be a write per second or more). */
const PROGRESS_WRITE_INTERVAL_MS = 1_000;

/** How often a running job looks for its cancellation in its row: the bound on how long a cancel takes to stop it. */
const CANCEL_CHECK_INTERVAL_MS = 1_000;

/**
 * The retraining use case, whichever transport delivers the job (the worker's BullMQ processor, or the embedded
 * mode's in-process queue): the training workflow, with the model trained, scored and judged by the promotion gate
 * in a child process, and the job's history kept in its row. Delivery is at least once: the job's id is the
 * version's idempotency key, so a job that already published its version publishes nothing more.
 */
export class RetrainingRunner {
  private readonly logger = new Logger('Retraining');
  private readonly progressWrites = new Map<string, Promise<void>>();

  constructor(
    private readonly jobs: RetrainingJobs,
    private readonly registry: ModelRegistry,
    private readonly training: TrainingWorkflow,
    private readonly settings: RetrainingRunnerSettings,
    private readonly metrics?: RetrainingMetrics,
  ) {}

  /** Runs one delivery of a job; everything logged meanwhile, the training process's lines included, names it. */
  @OnJob('retrain')
  run(queued: RunningJob): Promise<RetrainingOutcome> {
    return LogContext.run({ jobId: queued.id }, () => this.runJob(queued));
  }

  private async runJob(queued: RunningJob): Promise<RetrainingOutcome> {
    const view = await this.jobs.get(queued.id).catch((error: unknown) => {
      if (error instanceof RetrainingJobNotFoundError) throw new PermanentJobError(error.message);
      throw error;
    });
    if (!(await this.jobs.markRunning(queued.id))) {
      throw new JobCancelledError(`retraining job ${queued.id} was cancelled before it ran`);
    }
    const { job, stopWatching } = this.watchCancellation(queued);
    const started = Date.now();
    const seconds = () => (Date.now() - started) / 1000;
    this.logger.log(
      `job ${job.id} (${view.trigger}) attempt ${job.attempt} of ${job.maxAttempts}: ${view.reason}`,
    );
    try {
      const outcome = await this.execute(job, view);
      const result = outcome.version === null ? 'skipped' : outcome.promoted ? 'promoted' : 'candidate';
      this.metrics?.ran(result, seconds());
      this.logger.log(`job ${job.id}: ${outcome.version ?? 'no version'} ${result}`);
      return outcome;
    } catch (caught) {
      const reason: unknown = job.signal.reason;
      const error = reason instanceof JobCancelledError ? reason : caught;
      const message = (error as Error).message;
      await this.settleProgress(job.id);
      if (error instanceof JobCancelledError) {
        this.metrics?.ran('cancelled', seconds());
        this.logger.warn(`job ${job.id} stopped: ${message}`);
      } else if (error instanceof JobInterruptedError) {
        this.metrics?.ran('interrupted', seconds());
        await this.jobs.markQueued(job.id, null);
        this.logger.warn(`job ${job.id} handed back to the queue: ${message}`);
      } else if (error instanceof PermanentJobError || job.attempt >= job.maxAttempts) {
        this.metrics?.ran('failed', seconds());
        await this.jobs.markFailed(job.id, message);
        this.logger.error(`job ${job.id} failed: ${message}`);
      } else {
        this.metrics?.ran('retry', seconds());
        await this.jobs.markQueued(job.id, `attempt ${job.attempt} failed: ${message}`);
        this.logger.warn(`job ${job.id} attempt ${job.attempt} failed, to be retried: ${message}`);
      }
      throw error;
    } finally {
      stopWatching();
    }
  }

  /**
   * The job as execute() sees it: its signal aborts at a shutdown (the queue's signal) and when an operator cancels
   * it, whichever process took the request (the row is checked every CANCEL_CHECK_INTERVAL_MS), with a
   * JobCancelledError as the reason; the training process stops on either.
   */
  private watchCancellation(queued: RunningJob): { job: RunningJob; stopWatching: () => void } {
    const stop = new AbortController();
    const onShutdown = () => stop.abort(new JobInterruptedError('training stopped by a shutdown'));
    if (queued.signal.aborted) onShutdown();
    queued.signal.addEventListener('abort', onShutdown);
    let checking = false;
    const timer = setInterval(() => {
      if (checking || stop.signal.aborted) return;
      checking = true;
      this.jobs
        .get(queued.id)
        .then((row) => {
          if (row.state === 'cancelled') stop.abort(new JobCancelledError(`cancelled by ${row.cancelledBy}`));
        })
        .catch((error: Error) =>
          this.logger.warn(`job ${queued.id}: could not check for a cancellation: ${error.message}`),
        )
        .finally(() => (checking = false));
    }, CANCEL_CHECK_INTERVAL_MS);
    timer.unref();
    return {
      job: { ...queued, signal: stop.signal },
      stopWatching: () => {
        clearInterval(timer);
        queued.signal.removeEventListener('abort', onShutdown);
      },
    };
  }

  private async execute(job: RunningJob, view: RetrainingJobView): Promise<RetrainingOutcome> {
    if (view.params.onlyIfEmpty) {
      const [latest] = await this.registry.list();
      if (latest) {
        const reason = `skipped: the registry already has ${latest.version}`;
        await this.jobs.markSkipped(job.id, reason);
        return { version: null, promoted: false, reasons: [reason] };
      }
    }
    const { dir: dataDir, params } = await this.data(job, view);
    const parentVersion = (await this.registry.production()).version;
    let outcome;
    try {
      outcome = await this.training.run({
        dataDir: resolve(dataDir),
        options: trainOptions(params),
        ...(params.maxRows !== undefined && { maxRows: params.maxRows }),
        gate: gateRules(params, this.settings.gate ?? DEFAULT_PROMOTION_GATE),
        ...(this.settings.feedback && {
          feedback: { labels: () => this.exportFeedback(job), recent: this.settings.feedback.recent },
        }),
        ...(this.settings.featureStore && { featureStore: this.settings.featureStore }),
        lineage: {
          trigger: view.trigger,
          source: 'retraining',
          createdBy: view.trigger,
          jobId: job.id,
          parentVersion,
          reason: view.reason,
          params: { ...params },
        },
        idempotencyKey: `retraining:${job.id}`,
        promote: { actor: `retraining:${job.id}`, reason: `retraining job ${job.id}: ${view.reason}` },
        isolation: { process: 'child', signal: job.signal },
        beforeRegistering: () => this.claimRegistration(job),
        progress: this.progressReporter(job),
      });
    } catch (error) {
      // Bad data (a missing folder, a malformed CSV) fails the same way on every attempt.
      if (error instanceof DatasetError) throw new PermanentJobError(error.message);
      throw error;
    }
    if (outcome.reused)
      this.logger.log(`job ${job.id}: ${outcome.record.version} was registered by an earlier run`);
    const promoted =
      outcome.promotion !== undefined ||
      (await this.registry.production()).version === outcome.record.version;
    await this.settleProgress(job.id);
    await this.jobs.markSucceeded(job.id, outcome.record.version, outcome.record.gate);
    this.metrics?.gate(outcome.record.gate);
    return { version: outcome.record.version, promoted, reasons: outcome.gate?.reasons ?? [] };
  }

  /** One conditional update: either the cancellation or the registration wins, never both. */
  private async claimRegistration(job: RunningJob): Promise<void> {
    await this.settleProgress(job.id);
    if (!(await this.jobs.claimRegistration(job.id))) {
      throw new JobCancelledError(`retraining job ${job.id} was cancelled before its version was registered`);
    }
  }

  /**
   * The demo catalogue for a job that asks for it, else DATA_DIR, else a copy of the data in the artifact store,
   * else (the quick start's defaults) the demo catalogue again, as the first model trained: with the parameters
   * the job trains with (`dataset: demo` when it trains on the demo catalogue).
   */
  private async data(
    job: RunningJob,
    view: RetrainingJobView,
  ): Promise<{ dir: string; params: RetrainingJobView['params'] }> {
    const demo = () => {
      const dir = demoCatalogueDir();
      if (!dir) {
        throw new PermanentJobError(
          'there is no training data: set DATA_DIR (or DATA_S3_PREFIX) on the process that trains ' +
            '(the demo catalogue is not installed with this build)',
        );
      }
      return { dir, params: { ...view.params, dataset: 'demo' as const } };
    };
    if (view.params.dataset === 'demo') return demo();
    if (this.settings.dataDir) return { dir: this.settings.dataDir, params: view.params };
    const source = this.settings.dataStore;
    if (!source) {
      this.logger.log(`job ${job.id}: no DATA_DIR or DATA_S3_PREFIX: training on the demo catalogue`);
      return demo();
    }
    await this.jobs.markProgress(job.id, 'loading-data', {
      phase: 'loading-data',
      message: 'fetching the data',
    });
    const dir = await fetchDataFromStore(
      source.store,
      source.prefix,
      resolve(this.settings.varDir, 'data-cache'),
      (line) => this.logger.log(`job ${job.id}: ${line}`),
    );
    return { dir, params: view.params };
  }

  /**
   * The labelled predictions for the training step (the workflow writes them in the run's own folder), with their
   * photos fetched to VAR_DIR/feedback-images (a cache kept between jobs; a photo the store no longer has trains
   * nothing, its row trains by its text).
   */
  private async exportFeedback(job: RunningJob): Promise<FeedbackFile> {
    const feedback = this.settings.feedback!;
    await this.jobs.markProgress(job.id, 'loading-data', {
      phase: 'loading-data',
      message: 'exporting the labelled predictions',
    });
    const { examples, missingPredictions } = await feedback.examples.load();
    const shas = examples.flatMap((e) => (e.imageSha256 ? [e.imageSha256] : []));
    const photos = await feedback.images.fetchAllTo(shas, resolve(this.settings.varDir, 'feedback-images'));
    this.logger.log(
      `job ${job.id}: ${examples.length} labelled predictions, ${photos.size} of their ${new Set(shas).size} ` +
        `photos still in the store; labels without their prediction: ${missingPredictions}`,
    );
    return {
      missingPredictions,
      rows: examples.map((e) => {
        const imagePath = e.imageSha256 ? photos.get(e.imageSha256) : undefined;
        return {
          predictionId: e.predictionId,
          labelledAt: e.labelledAt.toISOString(),
          prdtypecode: e.prdtypecode,
          designation: e.designation,
          description: e.description,
          ...(imagePath && { imagePath }),
        };
      }),
    };
  }

  /**
   * Every line of the run goes to the log, naming the job, and to the job row, but while training only the latest
   * epoch, at most once a second; the queue's own job progress gets each new phase and each epoch.
   */
  private progressReporter(job: RunningJob): (event: TrainingProgress) => void {
    let lastWrite = 0;
    let phase: string | undefined;
    return (event) => {
      this.logger.log(`job ${job.id}: ${event.message}`);
      const moved = event.phase !== phase;
      phase = event.phase;
      if (moved || event.epoch !== undefined) void job.reportProgress({ ...event }).catch(() => undefined);
      if (moved && event.phase === 'training')
        this.write(job.id, () => this.jobs.markTrainingStarted(job.id));
      const now = Date.now();
      if (event.phase === 'training' && !moved) {
        if (event.epoch === undefined || now - lastWrite < PROGRESS_WRITE_INTERVAL_MS) return;
      }
      lastWrite = now;
      this.writeProgress(job.id, event.phase, { ...event });
    };
  }

  /**
   * Progress is written without holding the job up, but in order, and all of it before the job's outcome: a late
   * "promoting" must not overwrite "done".
   */
  private writeProgress(jobId: string, phase: string, progress: Record<string, unknown>): void {
    this.write(jobId, () => this.jobs.markProgress(jobId, phase, progress));
  }

  private write(jobId: string, update: () => Promise<void>): void {
    const previous = this.progressWrites.get(jobId) ?? Promise.resolve();
    this.progressWrites.set(
      jobId,
      previous
        .then(update)
        .catch((error: Error) => this.logger.warn(`job ${jobId}: progress not recorded: ${error.message}`)),
    );
  }

  private async settleProgress(jobId: string): Promise<void> {
    await this.progressWrites.get(jobId);
    this.progressWrites.delete(jobId);
  }
}
