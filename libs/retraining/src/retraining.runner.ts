import { Logger } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DEFAULT_PROMOTION_GATE, type PromotionGateOptions } from '@app/ml';
import { JobInterruptedError, PermanentJobError, type RunningJob } from '@app/queue';
import type { ModelRegistry, ModelVersionRecord } from '@app/registry';
import type { TrainingProgress } from './candidate-training';
import { RetrainingJobNotFoundError, type RetrainingJobs, type RetrainingJobView } from './retraining-jobs';
import { trainInChildProcess } from './training-process';

/** How a runner moves the production pointer (so that every replica swaps): the promotion workflow. */
export type PromoteVersion = (version: string, actor: string, reason: string) => Promise<void>;

export interface RetrainingRunnerSettings {
  /** The base training set (a Rakuten-layout folder); unset: every job fails at once, saying so. */
  dataDir?: string;
  /** Scratch space for model directories being trained, and the cache of downloaded production models. */
  varDir: string;
  gate?: PromotionGateOptions;
}

export interface RetrainingOutcome {
  version: string;
  promoted: boolean;
  /** Why (the gate's reasons), or why not. */
  reasons: string[];
}

/** Progress is written to the job row at most this often (every epoch would be a write per second or more). */
const PROGRESS_WRITE_INTERVAL_MS = 1_000;

/**
 * The retraining use case, whichever transport delivers the job (the worker's BullMQ processor, or the embedded
 * mode's in-process queue): train a candidate in a child process, register it, decide, promote. Delivery is at
 * least once, so a job that already published its version publishes nothing more.
 */
export class RetrainingRunner {
  private readonly logger = new Logger('Retraining');

  constructor(
    private readonly jobs: RetrainingJobs,
    private readonly registry: ModelRegistry,
    private readonly promote: PromoteVersion,
    private readonly settings: RetrainingRunnerSettings,
  ) {}

  async run(job: RunningJob): Promise<RetrainingOutcome> {
    const view = await this.jobs.get(job.id).catch((error: unknown) => {
      if (error instanceof RetrainingJobNotFoundError) throw new PermanentJobError(error.message);
      throw error;
    });
    await this.jobs.markRunning(job.id);
    this.logger.log(
      `job ${job.id} (${view.trigger}) attempt ${job.attempt} of ${job.maxAttempts}: ${view.reason}`,
    );
    try {
      const outcome = await this.execute(job, view);
      this.logger.log(
        `job ${job.id}: ${outcome.version} ${outcome.promoted ? 'promoted' : 'kept as a candidate'}`,
      );
      return outcome;
    } catch (error) {
      const message = (error as Error).message;
      if (error instanceof JobInterruptedError) {
        await this.jobs.markQueued(job.id, null);
        this.logger.warn(`job ${job.id} handed back to the queue: ${message}`);
      } else if (error instanceof PermanentJobError || job.attempt >= job.maxAttempts) {
        await this.jobs.markFailed(job.id, message);
        this.logger.error(`job ${job.id} failed: ${message}`);
      } else {
        await this.jobs.markQueued(job.id, `attempt ${job.attempt} failed: ${message}`);
        this.logger.warn(`job ${job.id} attempt ${job.attempt} failed, to be retried: ${message}`);
      }
      throw error;
    }
  }

  private async execute(job: RunningJob, view: RetrainingJobView): Promise<RetrainingOutcome> {
    const key = idempotencyKey(job.id);
    const production = await this.registry.production();
    let record: ModelVersionRecord | undefined = await this.registry.findByIdempotencyKey(key);
    if (record) {
      this.logger.log(
        `job ${job.id} already registered ${record.version} (an earlier attempt): not training again`,
      );
    } else {
      record = await this.trainAndRegister(job, view, production.version, key);
    }
    const decision = record.gate as { promote?: boolean; reasons?: string[] } | null;
    const promoted = decision?.promote === true && (await this.promoteOnce(job, record));
    await this.jobs.markSucceeded(job.id, record.version, record.gate);
    return { version: record.version, promoted, reasons: decision?.reasons ?? [] };
  }

  private async trainAndRegister(
    job: RunningJob,
    view: RetrainingJobView,
    parentVersion: string | null,
    key: string,
  ): Promise<ModelVersionRecord> {
    const { dataDir } = this.settings;
    if (!dataDir)
      throw new PermanentJobError('there is no training data: set DATA_DIR on the process that trains');
    const scratch = resolve(this.settings.varDir, 'retraining');
    await mkdir(scratch, { recursive: true });
    const workDir = await mkdtemp(join(scratch, `${job.id}-`));
    try {
      const report = this.progressReporter(job);
      const started = Date.now();
      // The production model is scored on the same split as the candidate, in the training process.
      const productionDir = parentVersion
        ? await this.registry.fetch(parentVersion, resolve(this.settings.varDir, 'model-cache'))
        : undefined;
      const candidate = await trainInChildProcess(
        {
          dataDir: resolve(dataDir),
          outDir: workDir,
          params: view.params,
          productionDir,
          gate: this.settings.gate ?? DEFAULT_PROMOTION_GATE,
        },
        {
          onProgress: report,
          onLog: (line) => this.logger.log(`job ${job.id}: ${line}`),
          signal: job.signal,
        },
      );
      for (const reason of candidate.decision.reasons) this.logger.log(`job ${job.id} gate: ${reason}`);
      await this.jobs.markProgress(job.id, 'registering', null);
      return await this.registry.register(workDir, {
        createdBy: view.trigger,
        source: 'retraining',
        parentVersion,
        idempotencyKey: key,
        gate: { ...candidate.decision },
        lineage: {
          trigger: view.trigger,
          jobId: job.id,
          attempt: job.attempt,
          reason: view.reason,
          parentVersion,
          dataDir: resolve(dataDir),
          dataFingerprint: candidate.dataFingerprint,
          evaluationSplit: candidate.splitHash,
          params: view.params,
          code: codeVersion(),
          backend: candidate.backend,
          trainingSeconds: candidate.seconds,
          totalSeconds: (Date.now() - started) / 1000,
        },
      });
    } finally {
      await rm(workDir, { recursive: true, force: true });
    }
  }

  /** Promotes the job's version unless it already is production or was promoted by an earlier attempt. */
  private async promoteOnce(job: RunningJob, record: ModelVersionRecord): Promise<boolean> {
    const production = await this.registry.production();
    if (production.version === record.version) return true;
    const actor = `retraining:${job.id}`;
    if (
      (await this.registry.history(1000)).some((a) => a.toVersion === record.version && a.actor === actor)
    ) {
      return false;
    }
    await this.jobs.markProgress(job.id, 'promoting', null);
    await this.promote(record.version, actor, `retraining job ${job.id}`);
    return true;
  }

  /** Writes progress to the job row at most once a second, and to the queue's own job progress each time. */
  private progressReporter(job: RunningJob): (progress: TrainingProgress) => void {
    let lastWrite = 0;
    return (progress) => {
      void job.reportProgress({ ...progress }).catch(() => undefined);
      const now = Date.now();
      if (now - lastWrite < PROGRESS_WRITE_INTERVAL_MS && progress.phase === 'training') return;
      lastWrite = now;
      this.jobs
        .markProgress(job.id, progress.phase, { ...progress })
        .catch((error: Error) => this.logger.warn(`job ${job.id}: progress not recorded: ${error.message}`));
    };
  }
}

/** The package version and git commit of the code that trained, when known (GIT_COMMIT is set by the image build). */
function codeVersion(): { package: string | null; commit: string | null } {
  let version: string | null = null;
  try {
    version =
      (JSON.parse(readFileSync(resolve('package.json'), 'utf8')) as { version?: string }).version ?? null;
  } catch {
    // Not started from the repository root or the image's app folder: the version is unknown.
  }
  return { package: version, commit: process.env.GIT_COMMIT ?? null };
}

/** One version per job, whatever the number of attempts. */
export function idempotencyKey(jobId: string): string {
  return `retraining:${jobId}`;
}
