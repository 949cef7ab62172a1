export {
  JobCancelledError,
  JobInterruptedError,
  PermanentJobError,
  QueueUnavailableError,
  RETRAINING_QUEUE,
  RETRAINING_JOB_NAMES,
  RETRAINING_QUEUE_PORT,
  type EnqueueResult,
  type JobHandler,
  type ProcessingQueue,
  type QueueCounts,
  type RetrainingJobName,
  type RetrainingQueue,
  type RetrainingQueueJob,
  type RunningJob,
} from './retraining-queue.types';
export {
  RETRAINING_DEDUPLICATION_ID,
  RETRAINING_GLOBAL_CONCURRENCY,
  RETRAINING_JOB_OPTIONS,
  RETRAINING_WORKER_OPTIONS,
} from './retraining-queue.options';
export { BullMqRetrainingQueue, REDIS_COMMAND_TIMEOUT_MS } from './bullmq-retraining.queue';
export { InProcessRetrainingQueue } from './in-process-retraining.queue';
export { runBullMqJob } from './bullmq-job.runner';
export { RetrainingQueueModule } from './retraining-queue.module';
export { OnJob } from './job-handler.decorator';
export {
  JobHandlers,
  JobHandlerSetupError,
  jobHandlerMap,
  type FoundJobHandler,
} from './job-handlers.service';
export { JobHandlersModule } from './job-handlers.module';
