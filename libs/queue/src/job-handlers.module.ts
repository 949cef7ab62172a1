import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { JobHandlers } from './job-handlers.service';

/** For processes that run jobs: JobHandlers, which finds the @OnJob handlers and checks them at startup. */
@Module({ imports: [DiscoveryModule], providers: [JobHandlers], exports: [JobHandlers] })
export class JobHandlersModule {}
