import { DataSource, In, type QueryDeepPartialEntity, type Repository } from 'typeorm';
import { RetrainingJobEntity, timeOrderedUuid, type RetrainingJobState } from '@app/database';
import type { RetrainingQueue } from '@app/queue';
import type { TrainingParams, TrainingProgress } from './candidate-training';
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

  /** Why a request now falls within the cooldown after the last finished retraining; undefined when it does not. */
  private async cooldown(): Promise<string | undefined> {
    if (this.cooldownMinutes <= 0) return undefined;
    const last = await this.rows().findOne({
      where: { state: In(['succeeded', 'failed']) },
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

  /** A run starts: `attempts` counts the runs started, including those a shutdown or a crash cut short. */
  async markRunning(id: string): Promise<void> {
    const now = new Date();
    await this.rows().increment({ id }, 'attempts', 1);
    await this.patch(id, {
      state: 'running',
      phase: 'starting',
      error: null,
      startedAt: now,
      updatedAt: now,
    });
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

  /** TypeORM's update() types JSON columns as nested partials; the row's own field types are what is meant. */
  private async patch(id: string, fields: Partial<RetrainingJobEntity>): Promise<void> {
    await this.rows().update({ id }, fields as QueryDeepPartialEntity<RetrainingJobEntity>);
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
  };
}
