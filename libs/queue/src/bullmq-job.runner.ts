import { UnrecoverableError, WaitingError, type Job } from 'bullmq';
import {
  JobCancelledError,
  JobInterruptedError,
  PermanentJobError,
  type JobHandler,
  type RetrainingQueueJob,
} from './retraining-queue.types';

/**
 * Runs a BullMQ job through a handler with the queue's rules: the job stops absorbing new requests once it runs
 * (the next request makes the next waiting job); a permanent error fails it without retries; an interruption by a
 * shutdown hands it back to the queue without using an attempt, so the next worker runs it; a cancelled job is
 * not retried.
 */
export async function runBullMqJob(
  job: Job<RetrainingQueueJob['data']>,
  token: string | undefined,
  signal: AbortSignal,
  handler: JobHandler,
): Promise<unknown> {
  await job.removeDeduplicationKey();
  try {
    return await handler({
      id: job.id!,
      attempt: job.attemptsMade + 1,
      maxAttempts: job.opts.attempts ?? 1,
      signal,
      reportProgress: (progress) => job.updateProgress(progress),
    });
  } catch (error) {
    if (error instanceof JobInterruptedError) {
      await job.moveToWait(token);
      throw new WaitingError();
    }
    if (error instanceof PermanentJobError || error instanceof JobCancelledError) {
      throw new UnrecoverableError(error.message);
    }
    throw error;
  }
}
