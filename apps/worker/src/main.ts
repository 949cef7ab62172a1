import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ConfigValidationError, logLevels, runProcess } from '@app/config';
import { WorkerModule } from './worker.module';

runProcess(async (config) => {
  if (!config.env.REDIS_URL) {
    throw new ConfigValidationError([
      'REDIS_URL must be set for the worker: it takes retraining jobs from the Redis queue ' +
        '(without Redis, the API runs the jobs itself)',
    ]);
  }
  const app = await NestFactory.create(WorkerModule, { logger: logLevels(config) });
  await app.listen(config.env.WORKER_PORT);
  Logger.log(`Worker health and metrics on port ${config.env.WORKER_PORT}`, 'Bootstrap');

  // SIGTERM/SIGINT: stop taking jobs, hand the running one back (see RetrainingProcessor), close, exit 0.
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    Logger.log(`${signal} received: stopping`, 'Bootstrap');
    // A hard stop a little after the job's deadline, should closing itself hang (a database that never answers).
    setTimeout(() => process.exit(0), config.env.WORKER_SHUTDOWN_MS + 5_000).unref();
    await app.close();
    process.exit(0);
  };
  process.once('SIGTERM', (signal) => void shutdown(signal));
  process.once('SIGINT', (signal) => void shutdown(signal));
});
