import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
} from 'typeorm';
import { PredictionEntity } from './prediction.entity';

/** The true product type code of a served prediction, reported afterwards. */
@Entity({ name: 'feedback' })
export class FeedbackEntity {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id: number;

  @Index('IDX_feedback_prediction_id')
  @Column({ name: 'prediction_id', type: 'varchar', length: 36 })
  predictionId: string;

  @ManyToOne(() => PredictionEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'prediction_id', foreignKeyConstraintName: 'FK_feedback_prediction_id' })
  prediction?: PredictionEntity;

  @Column({ name: 'true_prdtypecode', type: 'integer' })
  truePrdtypecode: number;

  @CreateDateColumn({ name: 'created_at' })
  createdAt: Date;

  @Column({ name: 'reported_by', type: 'varchar', length: 128, nullable: true })
  reportedBy: string | null;
}
