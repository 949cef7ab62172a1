import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

export type PromotionAuditAction = 'promote' | 'rollback';

/** One move of the production pointer; replaying the log in id order rebuilds the production history. */
@Entity({ name: 'promotion_audit' })
export class PromotionAuditEntity {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id: number;

  @CreateDateColumn({ name: 'at' })
  at: Date;

  @Column({ type: 'varchar', length: 128 })
  actor: string;

  @Column({ type: 'varchar', length: 16 })
  action: PromotionAuditAction;

  @Column({ name: 'from_version', type: 'varchar', length: 64, nullable: true })
  fromVersion: string | null;

  @Column({ name: 'to_version', type: 'varchar', length: 64 })
  toVersion: string;

  @Column({ type: 'text', nullable: true })
  reason: string | null;
}
