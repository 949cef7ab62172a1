import { Logger } from '@nestjs/common';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
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
  /** Scratch space for model directories being trained. */
  varDir: string;
}

export interface RetrainingOutcome {
  version: string;
  promoted: boolean;
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
    const promoted = await this.promoteOnce(job, record);
    await this.jobs.markSucceeded(job.id, record.version, record.gate);
    return { version: record.version, promoted };
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
      const candidate = await trainInChildProcess(
        { dataDir: resolve(dataDir), outDir: workDir, params: view.params },
        {
          onProgress: report,
          onLog: (line) => this.logger.log(`job ${job.id}: ${line}`),
          signal: job.signal,
        },
      );
      await this.jobs.markProgress(job.id, 'registering', null);
      return await this.registry.register(workDir, {
        createdBy: view.trigger,
        source: 'retraining',
        parentVersion,
        idempotencyKey: key,
        lineage: {
          trigger: view.trigger,
          jobId: job.id,
          attempt: job.attempt,
          reason: view.reason,
          parentVersion,
          dataDir: resolve(dataDir),
          dataFingerprint: candidate.dataFingerprint,
          params: view.params,
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

/** One version per job, whatever the number of attempts. */
export function idempotencyKey(jobId: string): string {
  return `retraining:${jobId}`;
}
