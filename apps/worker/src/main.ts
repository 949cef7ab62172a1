import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { logLevels, runProcess } from '@app/config';
import { WorkerModule } from './worker.module';

runProcess(async (config) => {
  const app = await NestFactory.create(WorkerModule, { logger: logLevels(config) });
  app.enableShutdownHooks();
  await app.listen(config.env.WORKER_PORT);
  Logger.log(`Worker health and metrics on port ${config.env.WORKER_PORT}`, 'Bootstrap');
});
