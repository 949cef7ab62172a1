import { DataSource, type Repository } from 'typeorm';
import { AlertEventEntity, isUniqueViolation, timeOrderedUuid, type AlertEventResult } from '@app/database';
import type { RetrainingJobs } from './retraining-jobs.service';
import type { RetrainingMetrics } from './retraining.metrics';

/** The reason of an alert's event while its retraining request is on its way (then: what became of it). */
const PROCESSING = 'processing';

/**
 * How long a duplicate waits for the first notification of its alert to know its job: longer than the queue's own
 * bound on an enqueue (REDIS_COMMAND_TIMEOUT_MS), so the duplicate names the job whenever the first gets one.
 */
const DUPLICATE_WAIT_MS = 5_000;

/** One alert of an Alertmanager notification (webhook payload version 4), as far as the service reads it. */
export interface NotifiedAlert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  startsAt: string;
  fingerprint: string;
}

export interface AlertHandling {
  alertname: string;
  fingerprint: string;
  status: 'firing' | 'resolved';
  /** `<fingerprint>@<startsAt>`: what makes the alert's notifications one event. */
  key: string;
  result: AlertEventResult | 'duplicate';
  reason: string;
  jobId: string | null;
}

/**
 * Another service's answer to some alerts (a drift alert boosts audit sampling): acted on through the same
 * deduplication, once per alert.
 */
export interface AlertAction {
  readonly alertNames: readonly string[];
  act(alert: NotifiedAlert, key: string): Promise<Pick<AlertEventEntity, 'result' | 'reason'>>;
}

/**
 * Turns Alertmanager notifications into retraining requests, at most one per alert. Each alert is recorded under
 * its key (fingerprint and start) and status before anything else happens, and the unique key makes every further
 * notification of it (repeats, resends after an error, the copy another Alertmanager of a cluster sends) a
 * duplicate — whether or not Redis still remembers the job it started. Resolved alerts are recorded, not acted on.
 */
export class AlertTriggers {
  private readonly actions: AlertAction[] = [];

  constructor(
    private readonly dataSource: DataSource,
    private readonly jobs: RetrainingJobs,
    /** The alert names that ask for a retraining (RETRAINING_ALERTS). */
    private readonly alertNames: readonly string[],
    private readonly metrics?: RetrainingMetrics,
  ) {}

  /** Hands the alerts named by `action` to it instead of asking for a retraining. */
  use(action: AlertAction): void {
    this.actions.push(action);
  }

  async handle(alerts: readonly NotifiedAlert[]): Promise<AlertHandling[]> {
    const handled: AlertHandling[] = [];
    for (const alert of alerts) {
      const handling = await this.handleOne(alert);
      // A caller names its alerts: only the configured names become label values, or made-up names would add a
      // series each to /metrics.
      const known =
        this.alertNames.includes(handling.alertname) || this.actionFor(handling.alertname) !== undefined;
      this.metrics?.alert(known ? handling.alertname : 'other', handling.status, handling.result);
      handled.push(handling);
    }
    return handled;
  }

  private async handleOne(alert: NotifiedAlert): Promise<AlertHandling> {
    const alertname = alert.labels.alertname ?? '';
    const key = `${alert.fingerprint}@${alert.startsAt}`;
    const action = this.actionFor(alertname);
    const acts = alert.status === 'firing' && (action !== undefined || this.alertNames.includes(alertname));
    const event: AlertEventEntity = {
      id: timeOrderedUuid(),
      alertKey: key,
      status: alert.status,
      alertname,
      labels: alert.labels,
      result: acts ? 'enqueued' : alert.status === 'resolved' ? 'recorded' : 'ignored',
      reason: acts
        ? PROCESSING
        : alert.status === 'resolved'
          ? 'resolved: recorded, nothing to do'
          : `not a retraining alert (RETRAINING_ALERTS: ${this.alertNames.join(', ')})`,
      jobId: null,
      receivedAt: new Date(),
    };
    const base = { alertname, fingerprint: alert.fingerprint, status: alert.status, key };
    const deadline = Date.now() + DUPLICATE_WAIT_MS;
    for (;;) {
      try {
        await this.events().insert(event);
        break;
      } catch (error) {
        if (!isUniqueViolation(error)) throw error;
      }
      const first = await this.events().findOneBy({ alertKey: key, status: alert.status });
      // The first notification failed meanwhile and forgot its event: this one acts instead.
      if (!first) continue;
      // The first is still starting its job: answer once it knows which, so that the duplicate names the job.
      if (first.reason === PROCESSING && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        continue;
      }
      return {
        ...base,
        result: 'duplicate',
        reason: `already received at ${first.receivedAt.toISOString()} (${first.result})`,
        jobId: first.jobId,
      };
    }
    if (!acts) return { ...base, result: event.result, reason: event.reason, jobId: null };

    let outcome: Pick<AlertEventEntity, 'result' | 'reason' | 'jobId'>;
    try {
      outcome = action
        ? { ...(await action.act(alert, key)), jobId: null }
        : await this.retrain(alert, alertname, key);
    } catch (error) {
      // Nothing was started: forget the event, so that Alertmanager's retry (it retries 5xx) acts on it.
      await this.events().delete({ id: event.id });
      throw error;
    }
    await this.events().update({ id: event.id }, outcome);
    return { ...base, ...outcome };
  }

  private async retrain(
    alert: NotifiedAlert,
    alertname: string,
    key: string,
  ): Promise<Pick<AlertEventEntity, 'result' | 'reason' | 'jobId'>> {
    // A retraining already queued or running will serve a model trained on the same labels: join it.
    const active = await this.jobs.active();
    if (active) {
      return {
        result: 'absorbed',
        reason: `joined retraining job ${active.id}, ${active.state}`,
        jobId: active.id,
      };
    }
    const summary = alert.annotations?.summary;
    const { job, deduplicated, cooledDown } = await this.jobs.request({
      reason: `alert ${alertname} firing since ${alert.startsAt}${summary ? `: ${summary}` : ''}`,
      trigger: `alert:${key}`,
      params: {},
    });
    if (cooledDown) {
      return { result: 'cooldown', reason: String(job.progress?.message ?? 'cooldown'), jobId: job.id };
    }
    if (deduplicated) {
      return { result: 'absorbed', reason: `joined retraining job ${job.id}, waiting`, jobId: job.id };
    }
    return { result: 'enqueued', reason: `retraining job ${job.id} queued`, jobId: job.id };
  }

  private actionFor(alertname: string): AlertAction | undefined {
    return this.actions.find((action) => action.alertNames.includes(alertname));
  }

  private events(): Repository<AlertEventEntity> {
    return this.dataSource.getRepository(AlertEventEntity);
  }
}
