import { Counter } from 'prom-client';
import { createMetricsRegistry } from './metrics-registry.factory';

describe('createMetricsRegistry', () => {
  it("carries Node's default metrics, and each registry its own series", async () => {
    const first = createMetricsRegistry();
    const second = createMetricsRegistry();
    new Counter({ name: 'jobs_total', help: 'jobs', registers: [first] }).inc(3);
    const text = await first.metrics();
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).toContain('nodejs_eventloop_lag_seconds');
    expect(text).toContain('jobs_total 3');
    expect(await second.metrics()).not.toContain('jobs_total');
  });
});
