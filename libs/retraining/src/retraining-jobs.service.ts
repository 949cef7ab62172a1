import { DataSource, In, IsNull, Not, type QueryDeepPartialEntity, type Repository } from 'typeorm';
import { RetrainingJobEntity, timeOrderedUuid, type RetrainingJobState } from '@app/database';
import { RETRAINING_JOB_OPTIONS, RETRAINING_WORKER_OPTIONS, type RetrainingQueue } from '@app/queue';
import type { TrainingProgress } from '@app/training';
import type { TrainingParams } from './retraining-params.util';
import type { RetrainingMetrics } from './retraining.metrics';

export interface RetrainingRequest {
  reason: string;
  /** `admin:<user>`, `bootstrap`, `cli`, `alert:<key>`. */
  trigger: string;
  params: TrainingParams;
  /** Run even within the cooldown after the last retraining (an administrator's request, the first model). */
  force?: boolean;
}

export interface RetrainingRequestResult {
  job: RetrainingJobView;
  /** The request was absorbed by the job already waiting. */
  deduplicated: boolean;
  /** The request came within the cooldown: it is recorded as a skipped job, and nothing is queued. */
  cooledDown: boolean;
}

/** A job as the API shows it. */
export interface RetrainingJobView {
  id: string;
  state: RetrainingJobState;
  phase: string;
  trigger: string;
  reason: string;
  params: TrainingParams;
  progress: (TrainingProgress & Record<string, unknown>) | null;
  attempts: number;
  error: string | null;
  resultVersion: string | null;
  gate: Record<string, unknown> | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  updatedAt: Date | null;
  trainingStartedAt: Date | null;
  cancelledBy: string | null;
  cancelledAt: Date | null;
}

/** What became of the jobs a stopped process held, when the next one starts (see recoverInterrupted). */
export interface RecoveredJobs {
  /** Run again, oldest first. */
  resumed: string[];
  /** Ended as failed, with the reason in their error. */
  failed: string[];
}

/**
 * Runs a job may start before a restart ends it as failed instead of running it again: the queue's attempts plus
 * the stalls BullMQ tolerates, so that a job which kills its process every time cannot loop for ever.
 */
const MAX_RUNS = (RETRAINING_JOB_OPTIONS.attempts ?? 1) + (RETRAINING_WORKER_OPTIONS.maxStalledCount ?? 1);

/** Phases after training, when the version is being registered or promoted: too late to cancel. */
const PAST_CANCELLING = ['registering', 'promoting'];

export class RetrainingJobNotCancellableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RetrainingJobNotCancellableError';
  }
}

export class RetrainingJobNotFoundError extends Error {
  constructor(id: string) {
    super(`no retraining job ${id}`);
    this.name = 'RetrainingJobNotFoundError';
  }
}

/**
 * The retraining jobs: a row each in `retraining_jobs` (the history, kept after the queue forgets a job) and an
 * entry in the queue (the delivery). Every transport that asks for a retraining (HTTP, the Alertmanager webhook,
 * the boot-time bootstrap) goes through request(); every runner records what happens through the mark* methods.
 */
export class RetrainingJobs {
  constructor(
    private readonly dataSource: DataSource,
    private readonly queue: RetrainingQueue,
    private readonly metrics?: RetrainingMetrics,
    /** After a retraining finishes, requests within this many minutes are recorded as skipped (0: off). */
    private readonly cooldownMinutes = 0,
  ) {}

  /**
   * Records and enqueues a request. When a job is already waiting, that job absorbs the request: the answer is the
   * waiting job, and no row is left for this one. The row is written before the queue entry, so a runner always
   * finds the row of the job it receives.
   */
  async request(request: RetrainingRequest): Promise<RetrainingRequestResult> {
    const id = timeOrderedUuid();
    const cooldown = request.force ? undefined : await this.cooldown();
    const row: RetrainingJobEntity = {
      id,
      createdAt: new Date(),
      state: 'queued',
      phase: 'queued',
      trigger: request.trigger,
      reason: request.reason,
      params: { ...request.params },
      progress: null,
      attempts: 0,
      error: null,
      resultVersion: null,
      gate: null,
      startedAt: null,
      finishedAt: null,
      updatedAt: new Date(),
      trainingStartedAt: null,
      cancelledBy: null,
      cancelledAt: null,
    };
    if (cooldown) {
      const now = new Date();
      Object.assign(row, {
        state: 'skipped',
        phase: 'done',
        progress: { phase: 'done', message: cooldown },
        finishedAt: now,
        updatedAt: now,
      });
      await this.rows().insert(row as QueryDeepPartialEntity<RetrainingJobEntity>);
      this.metrics?.requested('cooldown');
      return { job: toView(row), deduplicated: false, cooledDown: true };
    }
    await this.rows().insert(row as QueryDeepPartialEntity<RetrainingJobEntity>);
    let queued;
    try {
      queued = await this.queue.enqueue(id);
    } catch (error) {
      await this.rows().delete({ id });
      throw error;
    }
    if (queued.deduplicated) await this.rows().delete({ id });
    this.metrics?.requested(queued.deduplicated ? 'deduplicated' : 'created');
    return { job: await this.get(queued.jobId), deduplicated: queued.deduplicated, cooledDown: false };
  }

  /** The newest job that is queued or running, if any: a trigger arriving meanwhile joins it. */
  async active(): Promise<RetrainingJobView | undefined> {
    const row = await this.rows().findOne({
      where: { state: In(['queued', 'running']) },
      order: { createdAt: 'DESC', id: 'DESC' },
    });
    return row ? toView(row) : undefined;
  }

  /**
   * Why a request now falls within the cooldown after the last retraining that trained; undefined when it does not.
   * The cooldown stops a retraining storm: a first model (bootstrap), a job that failed before training (no data)
   * and a cancelled job do not start it.
   */
  private async cooldown(): Promise<string | undefined> {
    if (this.cooldownMinutes <= 0) return undefined;
    const last = await this.rows().findOne({
      where: {
        state: In(['succeeded', 'failed']),
        trigger: Not('bootstrap'),
        trainingStartedAt: Not(IsNull()),
      },
      order: { finishedAt: 'DESC' },
    });
    if (!last?.finishedAt) return undefined;
    const until = new Date(last.finishedAt.getTime() + this.cooldownMinutes * 60_000);
    if (until <= new Date()) return undefined;
    return (
      `skipped: within the ${this.cooldownMinutes}-minute cooldown (RETRAINING_COOLDOWN_MINUTES) after job ` +
      `${last.id}, which ${last.state} at ${last.finishedAt.toISOString()}; the next retraining may start after ` +
      `${until.toISOString()}, or an admin may force one`
    );
  }

  async get(id: string): Promise<RetrainingJobView> {
    const row = await this.rows().findOneBy({ id });
    if (!row) throw new RetrainingJobNotFoundError(id);
    return toView(row);
  }

  /** Newest first. */
  async list(limit = 50): Promise<RetrainingJobView[]> {
    const rows = await this.rows().find({ order: { createdAt: 'DESC', id: 'DESC' }, take: limit });
    return rows.map(toView);
  }

  /**
   * A run starts: `attempts` counts the runs started, including those a shutdown or a crash cut short. False when
   * the job was cancelled: it must not run.
   */
  async markRunning(id: string): Promise<boolean> {
    const now = new Date();
    const claimed = await this.patch(id, {
      state: 'running',
      phase: 'starting',
      error: null,
      startedAt: now,
      updatedAt: now,
    });
    if (claimed) await this.rows().increment({ id }, 'attempts', 1);
    return claimed;
  }

  /** The training process began training (its data loaded): from now on the job counts for the cooldown. */
  async markTrainingStarted(id: string): Promise<void> {
    await this.rows().update({ id, trainingStartedAt: IsNull() }, { trainingStartedAt: new Date() });
  }

  /**
   * Training is done and the version is about to be registered: from here the job can no longer be cancelled.
   * False when a cancellation came first (one conditional update each, so exactly one of the two wins).
   */
  async claimRegistration(id: string): Promise<boolean> {
    const result = await this.rows().update(
      { id, state: 'running' },
      { phase: 'registering', updatedAt: new Date() },
    );
    return (result.affected ?? 0) > 0;
  }

  /** Whether an operator cancelled the job (a running job's runner checks this while it trains). */
  async isCancelled(id: string): Promise<boolean> {
    return (await this.rows().countBy({ id, state: 'cancelled' })) > 0;
  }

  /**
   * Cancels a queued or running job for `actor` (`admin:<user>`), recorded on the job (cancelledBy, cancelledAt).
   * A waiting job leaves the queue, so it absorbs no more requests; a running one is stopped by its runner, which
   * checks the job's state while it trains and stops the training process. A job registering or promoting its
   * version, or already finished, cannot be cancelled.
   */
  async cancel(id: string, actor: string): Promise<RetrainingJobView> {
    const job = await this.get(id);
    if (job.state === 'queued') await this.queue.remove(id);
    const now = new Date();
    const result = await this.rows().update(
      { id, state: In(['queued', 'running']), phase: Not(In(PAST_CANCELLING)) },
      {
        state: 'cancelled',
        phase: 'cancelled',
        error: `cancelled by ${actor}`,
        cancelledBy: actor,
        cancelledAt: now,
        finishedAt: now,
        updatedAt: now,
      },
    );
    if (!result.affected) {
      const current = await this.get(id);
      throw new RetrainingJobNotCancellableError(
        current.state === 'running' || current.state === 'queued'
          ? `retraining job ${id} is ${current.phase} its version: too late to cancel`
          : `retraining job ${id} is ${current.state}: only a queued or running job can be cancelled`,
      );
    }
    return this.get(id);
  }

  /**
   * Embedded mode, at start: the jobs the previous process held (queued, or running when it stopped) are in no
   * queue any more. Each runs again, oldest first, unless it already started MAX_RUNS times, or the queue's one
   * waiting place is taken (then another resumed job does its work): those end as failed, with the reason. So the
   * history holds no orphan, and no alert joins one.
   */
  async recoverInterrupted(): Promise<RecoveredJobs> {
    const rows = await this.rows().find({
      where: { state: In(['queued', 'running']) },
      order: { createdAt: 'ASC', id: 'ASC' },
    });
    const recovered: RecoveredJobs = { resumed: [], failed: [] };
    for (const row of rows) {
      if (row.attempts >= MAX_RUNS) {
        await this.markFailed(
          row.id,
          `interrupted: the process running it stopped ${row.attempts} times; not run again`,
        );
        recovered.failed.push(row.id);
        continue;
      }
      if (row.state === 'running') {
        await this.markQueued(row.id, 'interrupted: the process running it stopped; queued again');
      }
      const queued = await this.queue.enqueue(row.id);
      if (queued.deduplicated) {
        await this.markFailed(
          row.id,
          `interrupted by a restart; not run again: retraining job ${queued.jobId}, waiting in the queue, ` +
            'trains on the same data',
        );
        recovered.failed.push(row.id);
      } else {
        recovered.resumed.push(row.id);
      }
    }
    return recovered;
  }

  async markProgress(id: string, phase: string, progress: Record<string, unknown> | null): Promise<void> {
    await this.patch(id, { phase, progress, updatedAt: new Date() });
  }

  /** Back to the queue: handed back at a shutdown, or failed with attempts left (`error` says why). */
  async markQueued(id: string, error: string | null): Promise<void> {
    await this.patch(id, { state: 'queued', phase: 'queued', error, updatedAt: new Date() });
  }

  async markFailed(id: string, error: string): Promise<void> {
    const now = new Date();
    await this.patch(id, { state: 'failed', phase: 'failed', error, finishedAt: now, updatedAt: now });
  }

  async markSkipped(id: string, reason: string): Promise<void> {
    const now = new Date();
    await this.patch(id, {
      state: 'skipped',
      phase: 'done',
      progress: { phase: 'done', message: reason },
      finishedAt: now,
      updatedAt: now,
    });
  }

  async markSucceeded(
    id: string,
    resultVersion: string,
    gate: Record<string, unknown> | null,
  ): Promise<void> {
    const now = new Date();
    await this.patch(id, {
      state: 'succeeded',
      phase: 'done',
      resultVersion,
      gate,
      error: null,
      finishedAt: now,
      updatedAt: now,
    });
  }

  /**
   * Updates the job unless it was cancelled (a cancelled job's row is final); false when it was. TypeORM's update()
   * types JSON columns as nested partials; the row's own field types are what is meant.
   */
  private async patch(id: string, fields: Partial<RetrainingJobEntity>): Promise<boolean> {
    const result = await this.rows().update(
      { id, state: Not('cancelled') },
      fields as QueryDeepPartialEntity<RetrainingJobEntity>,
    );
    return (result.affected ?? 0) > 0;
  }

  private rows(): Repository<RetrainingJobEntity> {
    return this.dataSource.getRepository(RetrainingJobEntity);
  }
}

function toView(row: RetrainingJobEntity): RetrainingJobView {
  return {
    id: row.id,
    state: row.state,
    phase: row.phase,
    trigger: row.trigger,
    reason: row.reason,
    params: row.params as TrainingParams,
    progress: row.progress as RetrainingJobView['progress'],
    attempts: row.attempts,
    error: row.error,
    resultVersion: row.resultVersion,
    gate: row.gate,
    createdAt: row.createdAt,
    startedAt: row.startedAt,
    finishedAt: row.finishedAt,
    updatedAt: row.updatedAt,
    trainingStartedAt: row.trainingStartedAt,
    cancelledBy: row.cancelledBy,
    cancelledAt: row.cancelledAt,
  };
}
