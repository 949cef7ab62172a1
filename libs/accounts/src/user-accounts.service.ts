import { randomBytes, randomUUID } from 'node:crypto';
import { compare, hash } from 'bcryptjs';
import { DataSource, EntityManager, IsNull, Repository } from 'typeorm';
import { isRole, ROLES, USERNAME_PATTERN, USERNAME_RULE, type Role } from '@app/config';
import { isUniqueViolation, RefreshTokenEntity, runInTransaction, UserEntity } from '@app/database';

export const MIN_PASSWORD_LENGTH = 12;
const MAX_PASSWORD_BYTES = 72; // bcrypt ignores everything after the 72nd byte

/** A user as the API and the CLI show it: never the password hash. */
export interface UserView {
  id: string;
  username: string;
  roles: Role[];
  disabled: boolean;
  createdAt: Date;
  lastLoginAt: Date | null;
}

/** What an update of a user may change; absent fields stay as they are. */
export interface UserChanges {
  password?: string;
  roles?: readonly string[];
  disabled?: boolean;
}

/** A mistake the caller can fix: bad username, weak password, unknown role. */
export class InvalidUserError extends Error {}
export class UserNotFoundError extends Error {
  constructor(username: string) {
    super(`no user named "${username}"`);
  }
}
export class UsernameTakenError extends Error {
  constructor(username: string) {
    super(`the username "${username}" is taken`);
  }
}

/** The change would leave nobody able to manage users: every admin route would be locked out. */
export class LastAdminError extends Error {
  constructor(username: string, change: string) {
    super(
      `"${username}" is the last enabled admin and cannot be ${change}: give another user the admin role first`,
    );
  }
}

export function normalizeUsername(raw: string): string {
  const username = raw.trim().toLowerCase();
  if (!USERNAME_PATTERN.test(username)) throw new InvalidUserError(USERNAME_RULE);
  return username;
}

export function checkPassword(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new InvalidUserError(`a password must be at least ${MIN_PASSWORD_LENGTH} characters long`);
  }
  if (Buffer.byteLength(password) > MAX_PASSWORD_BYTES) {
    throw new InvalidUserError(
      `a password must be at most ${MAX_PASSWORD_BYTES} bytes long (bcrypt's limit)`,
    );
  }
}

export function checkRoles(roles: readonly string[]): Role[] {
  const unknown = roles.filter((r) => !isRole(r));
  if (unknown.length > 0 || roles.length === 0) {
    throw new InvalidUserError(
      `${unknown.length > 0 ? `unknown role ${unknown.join(', ')}: ` : 'at least one role is needed: '}roles are ${ROLES.join(', ')}`,
    );
  }
  return [...new Set(roles)] as Role[];
}

/** A password nobody has to choose: 24 random characters (about 143 bits). */
export function generatePassword(): string {
  return randomBytes(18).toString('base64url');
}

export function toUserView(user: UserEntity): UserView {
  return {
    id: user.id,
    username: user.username,
    roles: user.roles.filter(isRole),
    disabled: user.disabled,
    createdAt: user.createdAt,
    lastLoginAt: user.lastLoginAt,
  };
}

/**
 * The users table: creation, password checks, disabling, password resets. A plain class over a DataSource so that
 * the API and `npm run user` share it. Disabling a user or resetting a password revokes their refresh tokens.
 */
export class UserAccounts {
  private readonly users: Repository<UserEntity>;
  /** A real hash of nothing, compared against when the username is unknown so that timing does not tell. */
  private dummyHash?: Promise<string>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly bcryptCost: number,
  ) {
    this.users = dataSource.getRepository(UserEntity);
  }

  async create(input: { username: string; password: string; roles: readonly string[] }): Promise<UserView> {
    const username = normalizeUsername(input.username);
    checkPassword(input.password);
    const roles = checkRoles(input.roles);
    const user: Partial<UserEntity> = {
      id: randomUUID(),
      username,
      passwordHash: await hash(input.password, this.bcryptCost),
      roles,
      disabled: false,
    };
    try {
      await this.users.insert(user);
    } catch (error) {
      if (isUniqueViolation(error)) throw new UsernameTakenError(username);
      throw error;
    }
    return toUserView(await this.users.findOneByOrFail({ id: user.id }));
  }

  async list(): Promise<UserView[]> {
    return (await this.users.find({ order: { username: 'ASC' } })).map(toUserView);
  }

  async get(username: string): Promise<UserView> {
    return toUserView(await this.require(username));
  }

  async findById(id: string): Promise<UserEntity | null> {
    return this.users.findOneBy({ id });
  }

  /**
   * The user when the password matches and the account is enabled; otherwise undefined, after the same bcrypt
   * work, so that an unknown username takes as long as a wrong password.
   */
  async authenticate(rawUsername: string, password: string): Promise<UserEntity | undefined> {
    const username = rawUsername.trim().toLowerCase();
    const user = USERNAME_PATTERN.test(username) ? await this.users.findOneBy({ username }) : null;
    this.dummyHash ??= hash(generatePassword(), this.bcryptCost);
    const matches = await compare(password.slice(0, 1024), user?.passwordHash ?? (await this.dummyHash));
    if (!user || !matches || user.disabled) return undefined;
    const now = new Date();
    await this.users.update({ id: user.id }, { lastLoginAt: now });
    return { ...user, lastLoginAt: now };
  }

  async setDisabled(username: string, disabled: boolean): Promise<UserView> {
    return this.update(username, { disabled });
  }

  /** Sets a new password and revokes the user's refresh tokens. */
  async resetPassword(username: string, password: string): Promise<UserView> {
    return this.update(username, { password });
  }

  async setRoles(username: string, roles: readonly string[]): Promise<UserView> {
    return this.update(username, { roles });
  }

  /**
   * Applies every change or none. Refused with LastAdminError when it would leave no enabled admin: the check and
   * the update run in one transaction that holds the rows of every enabled user, so two admins disabling each
   * other at the same moment cannot both succeed. Disabling a user or setting a password revokes their refresh
   * tokens.
   */
  async update(rawUsername: string, changes: UserChanges): Promise<UserView> {
    const username = rawUsername.trim().toLowerCase();
    const roles = changes.roles === undefined ? undefined : checkRoles(changes.roles);
    if (changes.password !== undefined) checkPassword(changes.password);
    // bcrypt takes a while on purpose: hash before taking any lock.
    const passwordHash =
      changes.password === undefined ? undefined : await hash(changes.password, this.bcryptCost);
    return runInTransaction(this.dataSource, async (manager) => {
      const users = manager.getRepository(UserEntity);
      const enabled = await this.lockEnabledUsers(manager);
      const user = await users.findOneBy({ username });
      if (!user) throw new UserNotFoundError(username);
      const after: UserEntity = {
        ...user,
        ...(roles ? { roles } : {}),
        ...(changes.disabled === undefined ? {} : { disabled: changes.disabled }),
      };
      const isAdmin = (u: UserEntity) => !u.disabled && u.roles.includes('admin');
      if (isAdmin(user) && !isAdmin(after) && !enabled.some((u) => u.id !== user.id && isAdmin(u))) {
        throw new LastAdminError(username, after.disabled ? 'disabled' : 'demoted');
      }
      const update: Partial<UserEntity> = {};
      if (roles) update.roles = roles;
      if (changes.disabled !== undefined) update.disabled = changes.disabled;
      if (passwordHash !== undefined) {
        update.passwordHash = passwordHash;
        update.passwordChangedAt = new Date();
      }
      if (Object.keys(update).length > 0) await users.update({ id: user.id }, update);
      if (changes.disabled === true || passwordHash !== undefined) {
        await manager
          .getRepository(RefreshTokenEntity)
          .update({ userId: user.id, revokedAt: IsNull() }, { revokedAt: new Date() });
      }
      return toUserView(after);
    });
  }

  /** The ids of disabled users: tokens they still hold are refused. */
  async disabledIds(): Promise<string[]> {
    const rows = await this.users.find({ select: { id: true }, where: { disabled: true } });
    return rows.map((row) => row.id);
  }

  async hasEnabledAdmin(): Promise<boolean> {
    const enabled = await this.users.find({ select: { roles: true }, where: { disabled: false } });
    return enabled.some((user) => user.roles.includes('admin'));
  }

  async exists(username: string): Promise<boolean> {
    return (await this.users.countBy({ username: username.trim().toLowerCase() })) > 0;
  }

  private async require(rawUsername: string): Promise<UserEntity> {
    const username = rawUsername.trim().toLowerCase();
    const user = await this.users.findOneBy({ username });
    if (!user) throw new UserNotFoundError(username);
    return user;
  }

  /**
   * The enabled users, their rows locked until the transaction ends (PostgreSQL; SQLite runs one transaction at a
   * time). Locked in id order, so that concurrent updates wait for each other instead of deadlocking.
   */
  private lockEnabledUsers(manager: EntityManager): Promise<UserEntity[]> {
    const postgres = this.dataSource.options.type === 'postgres';
    return manager.getRepository(UserEntity).find({
      where: { disabled: false },
      order: { id: 'ASC' },
      ...(postgres ? { lock: { mode: 'pessimistic_write' as const } } : {}),
    });
  }
}
