import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ConfigValidationError, onStopRequest, processLogger, runProcess } from '@app/config';
import { WorkerModule } from './worker.module';

runProcess(async (config) => {
  if (!config.env.REDIS_URL) {
    throw new ConfigValidationError([
      'REDIS_URL must be set for the worker: it takes retraining jobs from the Redis queue ' +
        '(without Redis, the API runs the jobs itself)',
    ]);
  }
  const app = await NestFactory.create(WorkerModule, { logger: processLogger(config) });
  await app.listen(config.env.WORKER_PORT);
  Logger.log(`Worker health and metrics on port ${config.env.WORKER_PORT}`, 'Bootstrap');
  // Not Nest's shutdown hooks: after closing they re-raise the signal, so the process ends by that signal instead
  // of exit code 0, and as PID 1 in a container (where a signal without a handler is ignored) it may not end.
  // Closing stops taking jobs and hands the running one back within WORKER_SHUTDOWN_MS (RetrainingProcessor).
  onStopRequest(async (reason) => {
    Logger.log(`${reason}: stopping`, 'Bootstrap');
    // A hard stop a little after the job's deadline, should closing itself hang (a database that never answers).
    setTimeout(() => process.exit(0), config.env.WORKER_SHUTDOWN_MS + 5_000).unref();
    await app.close();
  });
});
