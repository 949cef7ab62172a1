import type { AuditBoosts } from './audit-boosts.store';

/** A firing alert as the webhook hands it over (see AlertTriggers in @app/retraining). */
interface FiringAlert {
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  startsAt: string;
}

export interface DriftAlertOutcome {
  result: 'boosted' | 'recorded' | 'ignored';
  reason: string;
}

/**
 * What a firing drift alert does: no retraining (new labels are what drift needs), but the version it names gets a
 * raised audit sampling rate for a while, and the operator is told (`notify`, the API's log). Called once per alert
 * by the webhook's deduplication (AlertTriggers), so repeats and resends of an alert boost nothing twice.
 */
export class DriftAlertAction {
  constructor(
    /** The alert names it handles (DRIFT_ALERTS). */
    readonly alertNames: readonly string[],
    private readonly boosts: AuditBoosts,
    private readonly notify: (message: string) => void,
  ) {}

  async act(alert: FiringAlert, key: string): Promise<DriftAlertOutcome> {
    const version = alert.labels.model_version;
    const signal = alert.labels.signal ?? 'drift';
    if (!version) return { result: 'ignored', reason: 'no model_version label: no version to audit' };
    const what = `drift on model ${version} (${signal}) since ${alert.startsAt}`;
    const boost = await this.boosts.boost(version, key, what);
    if (!boost) {
      this.notify(`${what}; audit boost off (DRIFT_AUDIT_BOOST_RATE=0)`);
      return { result: 'recorded', reason: `${what}: notified, audit boost off (DRIFT_AUDIT_BOOST_RATE=0)` };
    }
    const reason = `${what}: audit sampling raised to ${boost.rate} until ${boost.until.toISOString()}`;
    this.notify(reason);
    return { result: 'boosted', reason };
  }
}
