export { createMetricsRegistry, PROMETHEUS_CONTENT_TYPE } from './metrics-registry';
export { MetricsRegistryModule } from './metrics-registry.module';
