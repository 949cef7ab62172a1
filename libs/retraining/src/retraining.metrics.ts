import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { RetrainingQueue } from '@app/queue';

export type RunOutcome =
  'promoted' | 'candidate' | 'skipped' | 'failed' | 'interrupted' | 'retry' | 'cancelled';

/**
 * The retraining pipeline's metrics, on the process's registry: requests (API), runs, their outcome and duration,
 * the last gate decision (whoever runs jobs: the worker, or the API in embedded mode), and the queue's depth
 * (every process that holds the queue: aggregate with max() across replicas).
 */
export class RetrainingMetrics {
  private readonly requests = new Counter({
    name: 'retraining_requests_total',
    help: 'Retraining requests, by result: created a job, absorbed by the job already waiting, or skipped in the cooldown',
    labelNames: ['result'] as const,
    registers: [],
  });

  private readonly runs = new Counter({
    name: 'retraining_job_runs_total',
    help: 'Retraining job runs by outcome: promoted, candidate (kept by the gate), skipped, failed, interrupted, retry, cancelled',
    labelNames: ['outcome'] as const,
    registers: [],
  });

  private readonly duration = new Histogram({
    name: 'retraining_job_duration_seconds',
    help: 'Duration of a retraining job run, by outcome',
    labelNames: ['outcome'] as const,
    buckets: [5, 15, 30, 60, 120, 180, 300, 600, 1200, 1800, 3600],
    registers: [],
  });

  private readonly gateF1 = new Gauge({
    name: 'retraining_gate_weighted_f1',
    help: 'Weighted F1 on the frozen evaluation split at the last gate decision, of the candidate and of production',
    labelNames: ['model'] as const,
    registers: [],
  });

  private readonly gatePromote = new Gauge({
    name: 'retraining_gate_promote',
    help: 'The last gate decision: 1 promoted, 0 kept as a candidate',
    registers: [],
  });

  private readonly alerts = new Counter({
    name: 'alertmanager_webhook_alerts_total',
    help: 'Alerts received from Alertmanager, by name (a RETRAINING_ALERTS name, else other), status and what was done: enqueued, absorbed (a job was already queued or running), cooldown, duplicate, recorded (resolved), ignored (not a retraining alert)',
    labelNames: ['alertname', 'status', 'result'] as const,
    registers: [],
  });

  private readonly queueJobs: Gauge<'state'>;

  constructor(registry: Registry, queue: RetrainingQueue) {
    this.queueJobs = new Gauge({
      name: 'retraining_queue_jobs',
      help: 'Jobs in the retraining queue by state (waiting, active, delayed, completed and failed as retained)',
      labelNames: ['state'] as const,
      registers: [],
      async collect() {
        // With Redis down, the last known depth stays (readiness and the API's 503s say Redis is down).
        const counts = await queue.counts().catch(() => undefined);
        if (!counts) return;
        for (const [state, count] of Object.entries(counts)) this.set({ state }, count);
      },
    });
    registry.registerMetric(this.requests);
    registry.registerMetric(this.runs);
    // Every outcome's series exists from the start at 0: increase() in RetrainingJobsFailing sees no rise from a
    // series' first sample, so a first failure exported as a new series at 1 would never fire.
    for (const outcome of [
      'promoted',
      'candidate',
      'skipped',
      'failed',
      'interrupted',
      'retry',
    ] satisfies RunOutcome[]) {
      this.runs.inc({ outcome }, 0);
    }
    registry.registerMetric(this.duration);
    registry.registerMetric(this.gateF1);
    registry.registerMetric(this.gatePromote);
    registry.registerMetric(this.queueJobs);
    registry.registerMetric(this.alerts);
  }

  requested(result: 'created' | 'deduplicated' | 'cooldown'): void {
    this.requests.inc({ result });
  }

  alert(alertname: string, status: string, result: string): void {
    this.alerts.inc({ alertname, status, result });
  }

  ran(outcome: RunOutcome, seconds: number): void {
    this.runs.inc({ outcome });
    this.duration.observe({ outcome }, seconds);
  }

  gate(decision: Record<string, unknown> | null): void {
    if (!decision) return;
    const figure = (summary: unknown) => (summary as { weighted_f1?: number } | null)?.weighted_f1;
    const candidate = figure(decision.candidate);
    const production = figure(decision.production);
    if (candidate !== undefined) this.gateF1.set({ model: 'candidate' }, candidate);
    if (production !== undefined) this.gateF1.set({ model: 'production' }, production);
    else this.gateF1.remove({ model: 'production' });
    this.gatePromote.set(decision.promote === true ? 1 : 0);
  }
}
