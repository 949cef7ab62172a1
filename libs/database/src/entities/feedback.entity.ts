import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * Who chose the prediction that got labelled: its own caller (`consumer`), a reviewer working the uncertain end of
 * the review queue (`review`), or a reviewer labelling the random audit sample (`audit`).
 */
export type FeedbackSource = 'consumer' | 'review' | 'audit';

/**
 * The true product type code of a served prediction, reported afterwards: one label per prediction. It carries the
 * version that served the prediction and what that version answered, so live quality is computed from this table
 * alone, and it has no foreign key to `predictions`: a prediction is labelled while it may still wait in an API
 * replica's write buffer.
 */
@Entity({ name: 'feedback' })
@Index('IDX_feedback_labelled_at', ['labelledAt'])
@Index('IDX_feedback_model_version_labelled_at', ['modelVersion', 'labelledAt'])
export class FeedbackEntity {
  @PrimaryColumn({ name: 'prediction_id', type: 'varchar', length: 36 })
  predictionId: string;

  @Column({ name: 'model_version', type: 'varchar', length: 64 })
  modelVersion: string;

  @Column({ name: 'predicted_prdtypecode', type: 'integer' })
  predictedPrdtypecode: number;

  @Column({ name: 'true_prdtypecode', type: 'integer' })
  truePrdtypecode: number;

  @Column({ name: 'predicted_at', type: Date })
  predictedAt: Date;

  @CreateDateColumn({ name: 'created_at' })
  createdAt: Date;

  /** When the current label was set (the first report, or an admin's overwrite): live windows count from it. */
  @Column({ name: 'labelled_at', type: Date })
  labelledAt: Date;

  @Column({ name: 'reported_by', type: 'varchar', length: 128, nullable: true })
  reportedBy: string | null;

  /**
   * Review labels are harder than the traffic: the live F1 leaves them out (it reads consumer and audit ones).
   * Optional when writing: the column defaults to `consumer`; every row read has it.
   */
  @Column({ type: 'varchar', length: 16, default: 'consumer' })
  source?: FeedbackSource;
}
