import { Column, CreateDateColumn, Entity, PrimaryColumn, Unique } from 'typeorm';

/** An administrator replaced a prediction's label: who, when, from which code to which. */
@Entity({ name: 'feedback_audit' })
@Unique('UQ_feedback_audit_prediction_revision', ['predictionId', 'revision'])
export class FeedbackAuditEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ name: 'prediction_id', type: 'varchar', length: 36 })
  predictionId: string;

  /**
   * 1 for the first overwrite of the prediction's label, then 2, 3…: each row's previous code is the new code of
   * the row before it, and the last row's new code is the stored label.
   */
  @Column({ type: 'integer' })
  revision: number;

  @Column({ name: 'previous_prdtypecode', type: 'integer' })
  previousPrdtypecode: number;

  @Column({ name: 'new_prdtypecode', type: 'integer' })
  newPrdtypecode: number;

  @Column({ type: 'varchar', length: 128 })
  actor: string;

  @CreateDateColumn({ name: 'created_at' })
  createdAt: Date;
}
