import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/** An administrator replaced a prediction's label: who, when, from which code to which. */
@Entity({ name: 'feedback_audit' })
@Index('IDX_feedback_audit_prediction_id', ['predictionId'])
export class FeedbackAuditEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ name: 'prediction_id', type: 'varchar', length: 36 })
  predictionId: string;

  @Column({ name: 'previous_prdtypecode', type: 'integer' })
  previousPrdtypecode: number;

  @Column({ name: 'new_prdtypecode', type: 'integer' })
  newPrdtypecode: number;

  @Column({ type: 'varchar', length: 128 })
  actor: string;

  @CreateDateColumn({ name: 'created_at' })
  createdAt: Date;
}
