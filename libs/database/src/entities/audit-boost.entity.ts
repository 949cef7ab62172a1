import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * A raised audit sampling rate for one model version until a time: written when a drift alert fires, so that the
 * review queue samples more of the drifting version's predictions and labels for the new traffic come sooner.
 */
@Entity({ name: 'audit_boosts' })
export class AuditBoostEntity {
  @PrimaryColumn({ name: 'model_version', type: 'varchar', length: 64 })
  modelVersion: string;

  @Column({ type: 'float' })
  rate: number;

  @Column({ type: Date })
  until: Date;

  /** The alert that raised it (`<fingerprint>@<startsAt>`). */
  @Column({ name: 'alert_key', type: 'varchar', length: 160 })
  alertKey: string;

  @Column({ type: 'text' })
  reason: string;

  @Column({ name: 'updated_at', type: Date })
  updatedAt: Date;
}
