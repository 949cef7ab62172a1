import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { logLevels, runProcess } from '@app/config';
import { AppModule } from './app.module';

runProcess(async (config) => {
  const app = await NestFactory.create(AppModule, { logger: logLevels(config) });
  app.enableShutdownHooks();
  await app.listen(config.env.PORT);
  Logger.log(`API listening on port ${config.env.PORT}`, 'Bootstrap');
});
