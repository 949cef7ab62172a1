import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Server } from 'node:http';
import { logLevels, runProcess } from '@app/config';
import { AppModule } from './app.module';
import { configureApp } from './app.setup';
import { SigningKey } from './auth/signing-key';

/** How long in-flight requests may take to finish after SIGTERM before the process closes anyway. */
const DRAIN_TIMEOUT_MS = 10_000;

runProcess(async (config) => {
  SigningKey.assertConfigured(config);
  const app = await NestFactory.create(AppModule, { logger: logLevels(config) });
  configureApp(app);
  await app.listen(config.env.PORT);
  Logger.log(`API listening on port ${config.env.PORT} (docs at /docs)`, 'Bootstrap');

  // Graceful shutdown: stop accepting connections, let running requests finish, then close the modules (which
  // writes the predictions still buffered before the database connection goes away).
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    Logger.log(`${signal} received: draining requests`, 'Bootstrap');
    const server = app.getHttpServer() as Server;
    const drained = new Promise<void>((done) => server.close(() => done()));
    server.closeIdleConnections();
    await Promise.race([drained, new Promise((done) => setTimeout(done, DRAIN_TIMEOUT_MS).unref())]);
    await app.close();
    process.exit(0);
  };
  process.once('SIGTERM', (signal) => void shutdown(signal));
  process.once('SIGINT', (signal) => void shutdown(signal));
});
