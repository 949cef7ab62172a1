import { randomBytes, randomUUID } from 'node:crypto';
import { compare, hash } from 'bcryptjs';
import { DataSource, IsNull, Repository } from 'typeorm';
import { isRole, ROLES, USERNAME_PATTERN, USERNAME_RULE, type Role } from '@app/config';
import { isUniqueViolation, RefreshTokenEntity, UserEntity } from '@app/database';

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
  private readonly refreshTokens: Repository<RefreshTokenEntity>;
  /** A real hash of nothing, compared against when the username is unknown so that timing does not tell. */
  private dummyHash?: Promise<string>;

  constructor(
    dataSource: DataSource,
    private readonly bcryptCost: number,
  ) {
    this.users = dataSource.getRepository(UserEntity);
    this.refreshTokens = dataSource.getRepository(RefreshTokenEntity);
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
    const user = await this.require(username);
    await this.users.update({ id: user.id }, { disabled });
    if (disabled) await this.revokeRefreshTokens(user.id);
    return toUserView({ ...user, disabled });
  }

  async resetPassword(username: string, password: string): Promise<UserView> {
    checkPassword(password);
    const user = await this.require(username);
    await this.users.update(
      { id: user.id },
      { passwordHash: await hash(password, this.bcryptCost), passwordChangedAt: new Date() },
    );
    await this.revokeRefreshTokens(user.id);
    return toUserView(user);
  }

  async setRoles(username: string, roles: readonly string[]): Promise<UserView> {
    const checked = checkRoles(roles);
    const user = await this.require(username);
    await this.users.update({ id: user.id }, { roles: checked });
    return toUserView({ ...user, roles: checked });
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

  private async revokeRefreshTokens(userId: string): Promise<void> {
    await this.refreshTokens.update({ userId, revokedAt: IsNull() }, { revokedAt: new Date() });
  }
}
