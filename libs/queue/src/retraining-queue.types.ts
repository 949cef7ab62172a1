/**
 * The retraining queue's port: what the API enqueues into and what a job runner sees, whichever driver carries the
 * jobs (BullMQ over Redis, or the in-process driver of the embedded mode). The job's request, state and history
 * live in the database (`retraining_jobs`); the queue only carries the job's id to a runner, at least once.
 */
export const RETRAINING_QUEUE = 'retraining';

/**
 * Every job the retraining queue carries, by name: one discriminated union, so a handler cannot miss a kind. The
 * queue's job id is the job's id (its `retraining_jobs` row): the payload does not repeat it.
 */
export type RetrainingQueueJob = { name: 'retrain'; data: Record<string, never> };
export type RetrainingJobName = RetrainingQueueJob['name'];

/** The job names a worker must have exactly one handler for (JobHandlers checks it at startup). */
export const RETRAINING_JOB_NAMES = ['retrain'] as const satisfies readonly RetrainingJobName[];

/** Counts by BullMQ's states (the in-process driver reports the same names). */
export interface QueueCounts {
  waiting: number;
  active: number;
  delayed: number;
  completed: number;
  failed: number;
}

export interface EnqueueResult {
  /** The job that will run the request: the new one, or the one already waiting that absorbed it. */
  jobId: string;
  deduplicated: boolean;
}

/** What a handler sees of the job it runs. */
export interface RunningJob {
  id: string;
  /** 1 on the first run, 2 on the first retry, ... */
  attempt: number;
  maxAttempts: number;
  /** Aborted when the process shuts down: stop, and throw JobInterruptedError so the job is handed back. */
  signal: AbortSignal;
  /** Progress as the queue shows it (BullMQ job progress); cheap, may be called often. */
  reportProgress(progress: Record<string, unknown>): Promise<void>;
}

export type JobHandler = (job: RunningJob) => Promise<unknown>;

/** The job can never succeed (bad data, missing folder): fail it now instead of after every attempt. */
export class PermanentJobError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PermanentJobError';
  }
}

/** The job was stopped by a shutdown, not by its own fault: it goes back to the queue without using an attempt. */
export class JobInterruptedError extends Error {
  constructor(message = 'interrupted by a shutdown') {
    super(message);
    this.name = 'JobInterruptedError';
  }
}

/**
 * An operator cancelled the job: it stops and is neither retried nor handed back. The abort reason of a running
 * job's signal when the cancellation stopped it.
 */
export class JobCancelledError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JobCancelledError';
  }
}

/** The queue cannot be reached (Redis down): the caller answers 503 and may retry. */
export class QueueUnavailableError extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, { cause });
    this.name = 'QueueUnavailableError';
  }
}

export interface RetrainingQueue {
  readonly driver: 'bullmq' | 'in-process';
  /**
   * Enqueues job `jobId` unless a job is already waiting: then that one absorbs the request (at most one running
   * and one waiting). A running job does not absorb requests, since it may have read its data already.
   */
  enqueue(jobId: string): Promise<EnqueueResult>;
  /**
   * Removes job `jobId` if it waits (or waits for a retry): true when it was removed, false when it is running or
   * unknown. A removed waiting job no longer absorbs requests.
   */
  remove(jobId: string): Promise<boolean>;
  counts(): Promise<QueueCounts>;
  close(): Promise<void>;
}

/** A queue whose jobs run in this process (the embedded mode); the worker process uses @nestjs/bullmq instead. */
export interface ProcessingQueue extends RetrainingQueue {
  work(handler: JobHandler): void;
}

export const RETRAINING_QUEUE_PORT = Symbol('RETRAINING_QUEUE_PORT');
