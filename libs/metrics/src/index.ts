export { createMetricsRegistry, PROMETHEUS_CONTENT_TYPE } from './metrics-registry.factory';
export { MetricsRegistryModule } from './metrics-registry.module';
