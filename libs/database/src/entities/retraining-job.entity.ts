import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * queued → running → succeeded | failed, or skipped (nothing to do: a first model that another job made); a retried
 * or handed-back job goes back to queued; an operator may cancel a queued or running job (cancelled).
 */
export type RetrainingJobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'cancelled';

/**
 * One retraining request and what became of it. The queue (BullMQ or in-process) only carries the id; this row is
 * the job's history, kept after the queue has forgotten it.
 */
@Entity({ name: 'retraining_jobs' })
@Index('IDX_retraining_jobs_created_at', ['createdAt'])
export class RetrainingJobEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @CreateDateColumn({ name: 'created_at' })
  createdAt: Date;

  @Column({ type: 'varchar', length: 16 })
  state: RetrainingJobState;

  /** What the job is doing now: queued, loading-data, training, evaluating, registering, gating, promoting, done. */
  @Column({ type: 'varchar', length: 32 })
  phase: string;

  /** Who or what asked: `admin:<user>`, `bootstrap`, `cli`, `alert:<key>`. */
  @Column({ type: 'varchar', length: 255 })
  trigger: string;

  @Column({ type: 'text' })
  reason: string;

  @Column({ type: 'simple-json' })
  params: Record<string, unknown>;

  @Column({ type: 'simple-json', nullable: true })
  progress: Record<string, unknown> | null;

  @Column({ type: 'integer', default: 0 })
  attempts: number;

  @Column({ type: 'text', nullable: true })
  error: string | null;

  @Column({ name: 'result_version', type: 'varchar', length: 64, nullable: true })
  resultVersion: string | null;

  @Column({ type: 'simple-json', nullable: true })
  gate: Record<string, unknown> | null;

  @Column({ name: 'started_at', type: Date, nullable: true })
  startedAt: Date | null;

  @Column({ name: 'finished_at', type: Date, nullable: true })
  finishedAt: Date | null;

  @Column({ name: 'updated_at', type: Date, nullable: true })
  updatedAt: Date | null;

  /** When the training process began training (after loading its data): only a job that trained starts the cooldown. */
  @Column({ name: 'training_started_at', type: Date, nullable: true })
  trainingStartedAt: Date | null;

  /** Who cancelled the job (`admin:<user>`), and when. */
  @Column({ name: 'cancelled_by', type: 'varchar', length: 255, nullable: true })
  cancelledBy: string | null;

  @Column({ name: 'cancelled_at', type: Date, nullable: true })
  cancelledAt: Date | null;
}
