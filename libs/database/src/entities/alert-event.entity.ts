import { Column, CreateDateColumn, Entity, PrimaryColumn, Unique } from 'typeorm';

/**
 * What the service did with an alert notification: started a retraining, or why not; for a drift alert, raised
 * the audit sampling of its version (boosted).
 */
export type AlertEventResult = 'enqueued' | 'absorbed' | 'cooldown' | 'recorded' | 'ignored' | 'boosted';

/**
 * One alert, as Alertmanager identifies it (fingerprint and start), in one status. The unique key is what makes
 * repeats, resends after an error and copies from an Alertmanager cluster harmless: only the first insert acts.
 */
@Entity({ name: 'alert_events' })
@Unique('UQ_alert_events_key_status', ['alertKey', 'status'])
export class AlertEventEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  /** `<fingerprint>@<startsAt>`: the same alert firing again after it resolved gets a new key. */
  @Column({ name: 'alert_key', type: 'varchar', length: 160 })
  alertKey: string;

  @Column({ type: 'varchar', length: 16 })
  status: 'firing' | 'resolved';

  @Column({ type: 'varchar', length: 128 })
  alertname: string;

  @Column({ type: 'simple-json' })
  labels: Record<string, string>;

  @Column({ type: 'varchar', length: 16 })
  result: AlertEventResult;

  @Column({ type: 'text' })
  reason: string;

  /** The retraining job it started, joined, or recorded as skipped. */
  @Column({ name: 'job_id', type: 'varchar', length: 36, nullable: true })
  jobId: string | null;

  @CreateDateColumn({ name: 'received_at' })
  receivedAt: Date;
}
