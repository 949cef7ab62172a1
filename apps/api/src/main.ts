import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Server } from 'node:http';
import { onStopRequest, processLogger, runProcess } from '@app/config';
import { AppModule } from './app.module';
import { configureApp } from './app.setup';
import { HttpServerAdapter, httpServerOptions } from './common/http-server.adapter';
import { ShutdownCoordinator } from './health/shutdown.coordinator';
import { SigningKey } from './auth/signing-key.config';

/** How long in-flight requests may take to finish after SIGTERM before the process closes anyway. */
const DRAIN_TIMEOUT_MS = 10_000;

runProcess(async (config) => {
  SigningKey.assertConfigured(config);
  const app = await NestFactory.create(AppModule, new HttpServerAdapter(httpServerOptions(config)), {
    logger: processLogger(config),
  });
  configureApp(app);
  await app.listen(config.env.PORT);
  Logger.log(`API listening on port ${config.env.PORT} (docs at /docs)`, 'Bootstrap');

  // Graceful shutdown (see ShutdownCoordinator): drain, close the server, then close the modules.
  onStopRequest(async (reason) => {
    Logger.log(`${reason}: draining, then stopping`, 'Bootstrap');
    const server = app.getHttpServer() as Server;
    await app.get(ShutdownCoordinator).drain(server, config.env.SHUTDOWN_GRACE_MS, DRAIN_TIMEOUT_MS);
    await app.close();
  });
});
