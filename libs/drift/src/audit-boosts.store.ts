import { DataSource, MoreThan, type Repository } from 'typeorm';
import { AuditBoostEntity } from '@app/database';

export interface AuditBoostSettings {
  /** The audit sampling rate while boosted (DRIFT_AUDIT_BOOST_RATE; 0: drift alerts boost nothing). */
  rate: number;
  /** How long a boost lasts after the alert that raised it (DRIFT_AUDIT_BOOST_MINUTES). */
  minutes: number;
}

export interface AuditBoost {
  modelVersion: string;
  rate: number;
  until: Date;
  alertKey: string;
  reason: string;
}

/**
 * The audit boosts drift alerts raise, in the database so that every API replica (and the review queue in any of
 * them) reads the same state. The review queue samples a version's predictions at rateFor(version, AUDIT_SAMPLE_RATE).
 */
export class AuditBoosts {
  constructor(
    private readonly dataSource: DataSource,
    readonly settings: AuditBoostSettings,
  ) {}

  /** Raises `version`'s audit rate for settings.minutes from `now` (a later alert extends it); null when off. */
  async boost(
    version: string,
    alertKey: string,
    reason: string,
    now = new Date(),
  ): Promise<AuditBoost | null> {
    if (this.settings.rate <= 0) return null;
    const boost: AuditBoost = {
      modelVersion: version,
      rate: this.settings.rate,
      until: new Date(now.getTime() + this.settings.minutes * 60_000),
      alertKey,
      reason,
    };
    await this.rows().upsert({ ...boost, updatedAt: now }, ['modelVersion']);
    return boost;
  }

  /** Boosts still running at `now`, soonest to end first. */
  async active(now = new Date()): Promise<AuditBoost[]> {
    const rows = await this.rows().find({ where: { until: MoreThan(now) }, order: { until: 'ASC' } });
    return rows.map(({ modelVersion, rate, until, alertKey, reason }) => ({
      modelVersion,
      rate,
      until,
      alertKey,
      reason,
    }));
  }

  /** The audit sampling rate for `version` now: the boosted rate while a boost runs, never below `baseRate`. */
  async rateFor(version: string, baseRate: number, now = new Date()): Promise<number> {
    const row = await this.rows().findOne({ where: { modelVersion: version, until: MoreThan(now) } });
    return row ? Math.max(baseRate, row.rate) : baseRate;
  }

  private rows(): Repository<AuditBoostEntity> {
    return this.dataSource.getRepository(AuditBoostEntity);
  }
}
