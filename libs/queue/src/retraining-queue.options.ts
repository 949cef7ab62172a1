import type { JobsOptions, WorkerOptions } from 'bullmq';

/**
 * Every option of the retraining queue, in one place. Training takes minutes and is CPU-bound, so: one job at a
 * time across all workers, a lock that survives a busy machine, a few attempts with a long backoff (a job usually
 * fails on a dependency that needs minutes to come back), and enough finished jobs kept to read their outcome
 * (the database keeps the full history).
 */
export const RETRAINING_JOB_OPTIONS: JobsOptions = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 30_000 },
  removeOnComplete: { age: 7 * 24 * 3600, count: 100 },
  removeOnFail: { age: 30 * 24 * 3600, count: 500 },
};

/** At most one waiting job: a request while one waits is absorbed by it (see RetrainingQueue.enqueue). */
export const RETRAINING_DEDUPLICATION_ID = 'retraining:waiting';

export const RETRAINING_GLOBAL_CONCURRENCY = 1;

/**
 * The lock is renewed every lockDuration / 2 by the worker's event loop, which stays free because training runs in
 * a child process. A worker killed mid-job loses its lock at most lockDuration later; the next stalled check (one
 * every stalledInterval across all workers) hands the job to another worker, so a running worker takes it over
 * within lockDuration + stalledInterval of the kill (maxStalledCount times before it counts as failed).
 */
export const RETRAINING_WORKER_OPTIONS: Pick<
  WorkerOptions,
  'concurrency' | 'lockDuration' | 'stalledInterval' | 'maxStalledCount'
> = {
  concurrency: 1,
  lockDuration: 10_000,
  stalledInterval: 5_000,
  maxStalledCount: 2,
};
