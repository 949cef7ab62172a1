import { Global, Module } from '@nestjs/common';
import { Registry } from 'prom-client';
import { createMetricsRegistry } from './metrics-registry.factory';

/**
 * Provides the process's prom-client Registry (inject `Registry`): every module registers its metrics on it, and
 * the app's own /metrics controller (a transport) serves it.
 */
@Global()
@Module({
  providers: [{ provide: Registry, useFactory: createMetricsRegistry }],
  exports: [Registry],
})
export class MetricsRegistryModule {}
