import { Column, CreateDateColumn, Entity, PrimaryColumn, Unique } from 'typeorm';

/** Someone who logs in with a username and password (POST /v1/auth/token) or is managed by `npm run user`. */
@Entity({ name: 'users' })
@Unique('UQ_users_username', ['username'])
export class UserEntity {
  /** A UUID: the `sub` of the access tokens issued to this user. */
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  /** Lower case, unique. */
  @Column({ type: 'varchar', length: 128 })
  username: string;

  /** bcrypt hash (cost and salt inside). */
  @Column({ name: 'password_hash', type: 'varchar', length: 100 })
  passwordHash: string;

  /** Role names, e.g. ["client"]. */
  @Column({ type: 'simple-json' })
  roles: string[];

  @Column({ type: 'boolean', default: false })
  disabled: boolean;

  @CreateDateColumn({ name: 'created_at' })
  createdAt: Date;

  @Column({ name: 'last_login_at', type: Date, nullable: true })
  lastLoginAt: Date | null;

  @Column({ name: 'password_changed_at', type: Date, nullable: true })
  passwordChangedAt: Date | null;
}
