import { collectDefaultMetrics, Registry } from 'prom-client';

/** The Content-Type of the Prometheus text format that Registry.metrics() writes. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/**
 * A process's metrics registry with Node's default metrics (CPU, memory, event loop lag, GC) on it. Its own
 * registry rather than prom-client's global one, so that several apps in one process (tests) never share counters.
 */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}
