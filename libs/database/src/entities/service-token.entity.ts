import { Column, CreateDateColumn, Entity, PrimaryColumn, Unique } from 'typeorm';

/**
 * A long-lived bearer token for a machine (Alertmanager, a batch client), scoped to roles, stored as the SHA-256
 * of its value and revocable.
 */
@Entity({ name: 'service_tokens' })
@Unique('UQ_service_tokens_name', ['name'])
@Unique('UQ_service_tokens_token_hash', ['tokenHash'])
export class ServiceTokenEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  /** Unique, e.g. "alertmanager": the principal's name in audit logs. */
  @Column({ type: 'varchar', length: 128 })
  name: string;

  @Column({ name: 'token_hash', type: 'varchar', length: 64 })
  tokenHash: string;

  @Column({ type: 'simple-json' })
  roles: string[];

  @CreateDateColumn({ name: 'created_at' })
  createdAt: Date;

  @Column({ name: 'created_by', type: 'varchar', length: 128 })
  createdBy: string;

  @Column({ name: 'expires_at', type: Date, nullable: true })
  expiresAt: Date | null;

  @Column({ name: 'revoked_at', type: Date, nullable: true })
  revokedAt: Date | null;

  /** Updated at most once a minute per replica. */
  @Column({ name: 'last_used_at', type: Date, nullable: true })
  lastUsedAt: Date | null;
}
