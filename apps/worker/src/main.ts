import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { logLevels, onStopRequest, runProcess } from '@app/config';
import { WorkerModule } from './worker.module';

runProcess(async (config) => {
  const app = await NestFactory.create(WorkerModule, { logger: logLevels(config) });
  await app.listen(config.env.WORKER_PORT);
  Logger.log(`Worker health and metrics on port ${config.env.WORKER_PORT}`, 'Bootstrap');
  // Not Nest's shutdown hooks: after closing they re-raise the signal, so the process ends by that signal instead
  // of exit code 0, and as PID 1 in a container (where a signal without a handler is ignored) it may not end.
  onStopRequest(async (reason) => {
    Logger.log(`${reason}: stopping`, 'Bootstrap');
    await app.close();
  });
});
