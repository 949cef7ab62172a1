import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/** review: the model was not sure enough to accept the answer; audit: drawn at random from all traffic. */
export type ReviewReason = 'review' | 'audit';

/** pending: waiting for a reviewer (maybe leased); labelled: a label was stored; skipped: a reviewer passed. */
export type ReviewStatus = 'pending' | 'labelled' | 'skipped';

/**
 * A served prediction waiting for (or given) a human label. The listing itself (title, description, photo, top
 * classes) stays in `predictions`; this row holds what the queue orders and leases by. No foreign key to
 * `predictions`: the API queues an item while its prediction may still wait in a replica's write buffer.
 */
@Entity({ name: 'review_items' })
@Index('IDX_review_items_queue', ['status', 'priority', 'margin', 'predictedAt'])
@Index('IDX_review_items_title_key', ['titleKey', 'status'])
@Index('IDX_review_items_decided_at', ['decidedAt'])
export class ReviewItemEntity {
  @PrimaryColumn({ name: 'prediction_id', type: 'varchar', length: 36 })
  predictionId: string;

  @Column({ name: 'model_version', type: 'varchar', length: 64 })
  modelVersion: string;

  @Column({ name: 'predicted_at', type: Date })
  predictedAt: Date;

  /** The code the model answered. */
  @Column({ type: 'integer' })
  prdtypecode: number;

  @Column({ type: 'varchar', length: 16 })
  reason: ReviewReason;

  /** Served in ascending order: audit items (0) before review items (1), so the live F1 keeps getting labels. */
  @Column({ type: 'integer' })
  priority: number;

  /** Top calibrated probability minus the second, to the hundredth (equal margins are served oldest first). */
  @Column({ type: 'float' })
  margin: number;

  /** Listings whose titles normalise to the same key are one listing to a reviewer. */
  @Column({ name: 'title_key', type: 'varchar', length: 64 })
  titleKey: string;

  /** The probability that this prediction entered the queue (1 for review, AUDIT_SAMPLE_RATE for audit). */
  @Column({ name: 'sampling_probability', type: 'float' })
  samplingProbability: number;

  @Column({ type: 'varchar', length: 16 })
  status: ReviewStatus;

  @Column({ name: 'leased_by', type: 'varchar', length: 128, nullable: true })
  leasedBy: string | null;

  @Column({ name: 'lease_until', type: Date, nullable: true })
  leaseUntil: Date | null;

  @Column({ name: 'decided_by', type: 'varchar', length: 128, nullable: true })
  decidedBy: string | null;

  @Column({ name: 'decided_at', type: Date, nullable: true })
  decidedAt: Date | null;

  /** The code the reviewer gave (labelled items). */
  @Column({ type: 'integer', nullable: true })
  label: number | null;

  @Column({ name: 'skip_reason', type: 'varchar', length: 32, nullable: true })
  skipReason: string | null;

  /** Labelled with the label of this item, a near-duplicate listing a reviewer labelled. */
  @Column({ name: 'collapsed_into', type: 'varchar', length: 36, nullable: true })
  collapsedInto: string | null;

  @CreateDateColumn({ name: 'created_at' })
  createdAt: Date;
}
