import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryColumn,
  Unique,
} from 'typeorm';
import { UserEntity } from './user.entity';

/**
 * One refresh token, stored as the SHA-256 of its value. Each use rotates it: the row is marked used and a new
 * row of the same family is issued. A used or revoked token presented again revokes its whole family.
 */
@Entity({ name: 'refresh_tokens' })
@Unique('UQ_refresh_tokens_token_hash', ['tokenHash'])
export class RefreshTokenEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  /** Every token obtained from one login by rotation shares the family id of the first. */
  @Index('IDX_refresh_tokens_family_id')
  @Column({ name: 'family_id', type: 'varchar', length: 36 })
  familyId: string;

  @Index('IDX_refresh_tokens_user_id')
  @Column({ name: 'user_id', type: 'varchar', length: 36 })
  userId: string;

  @ManyToOne(() => UserEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'FK_refresh_tokens_user_id' })
  user?: UserEntity;

  @Column({ name: 'token_hash', type: 'varchar', length: 64 })
  tokenHash: string;

  @CreateDateColumn({ name: 'created_at' })
  createdAt: Date;

  @Column({ name: 'expires_at', type: Date })
  expiresAt: Date;

  /** Set when the token was exchanged for a new one. */
  @Column({ name: 'used_at', type: Date, nullable: true })
  usedAt: Date | null;

  @Column({ name: 'revoked_at', type: Date, nullable: true })
  revokedAt: Date | null;
}
