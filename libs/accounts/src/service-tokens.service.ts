import { randomUUID } from 'node:crypto';
import { DataSource, IsNull, Repository } from 'typeorm';
import { isRole, type Role } from '@app/config';
import { isUniqueViolation, ServiceTokenEntity } from '@app/database';
import { checkRoles, InvalidUserError } from './user-accounts.service';
import { randomToken, tokenHash } from './token-hash.util';

/** Prefix of generated service tokens. Tokens seeded from ALERTMANAGER_WEBHOOK_TOKEN may look like anything. */
export const SERVICE_TOKEN_PREFIX = 'pcs_';

const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,127}$/;

export interface ServiceTokenView {
  id: string;
  name: string;
  roles: Role[];
  createdAt: Date;
  createdBy: string;
  expiresAt: Date | null;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
}

export class ServiceTokenNotFoundError extends Error {
  constructor(name: string) {
    super(`no active service token named "${name}"`);
  }
}
export class ServiceTokenNameTakenError extends Error {
  constructor(name: string) {
    super(`a service token named "${name}" exists (revoke it first)`);
  }
}

export function toServiceTokenView(row: ServiceTokenEntity): ServiceTokenView {
  const { tokenHash: _, ...view } = row;
  return { ...view, roles: row.roles.filter(isRole) };
}

/**
 * Long-lived bearer tokens for machines, scoped to roles, stored hashed. A revoked token keeps its row (for the
 * audit) under a name suffixed with its id, so the name can be reused.
 */
export class ServiceTokens {
  private readonly tokens: Repository<ServiceTokenEntity>;

  constructor(dataSource: DataSource) {
    this.tokens = dataSource.getRepository(ServiceTokenEntity);
  }

  /** Creates a token and returns its secret: shown once, never stored. */
  async create(input: {
    name: string;
    roles: readonly string[];
    createdBy: string;
    expiresAt?: Date | null;
    /** A secret chosen by the operator (ALERTMANAGER_WEBHOOK_TOKEN); by default a random one. */
    secret?: string;
  }): Promise<{ token: string; record: ServiceTokenView }> {
    const name = input.name.trim().toLowerCase();
    if (!NAME_PATTERN.test(name)) {
      throw new InvalidUserError(
        'a service token name must be 1 to 128 lower-case letters, digits, dots, underscores or dashes',
      );
    }
    const roles = checkRoles(input.roles);
    const token = input.secret ?? randomToken(SERVICE_TOKEN_PREFIX);
    const row: Partial<ServiceTokenEntity> = {
      id: randomUUID(),
      name,
      tokenHash: tokenHash(token),
      roles,
      createdBy: input.createdBy.slice(0, 128),
      expiresAt: input.expiresAt ?? null,
    };
    try {
      await this.tokens.insert(row);
    } catch (error) {
      if (isUniqueViolation(error)) throw new ServiceTokenNameTakenError(name);
      throw error;
    }
    return { token, record: toServiceTokenView(await this.tokens.findOneByOrFail({ id: row.id })) };
  }

  async list(): Promise<ServiceTokenView[]> {
    return (await this.tokens.find({ order: { createdAt: 'ASC' } })).map(toServiceTokenView);
  }

  /** Every token that is neither revoked nor expired. */
  async active(now = new Date()): Promise<ServiceTokenEntity[]> {
    const rows = await this.tokens.findBy({ revokedAt: IsNull() });
    return rows.filter((row) => !row.expiresAt || row.expiresAt > now);
  }

  async findActiveByHash(hash: string, now = new Date()): Promise<ServiceTokenEntity | undefined> {
    const row = await this.tokens.findOneBy({ tokenHash: hash, revokedAt: IsNull() });
    return row && (!row.expiresAt || row.expiresAt > now) ? row : undefined;
  }

  async revoke(rawName: string): Promise<ServiceTokenView> {
    const name = rawName.trim().toLowerCase();
    const row = await this.tokens.findOneBy({ name, revokedAt: IsNull() });
    if (!row) throw new ServiceTokenNotFoundError(name);
    const revoked = { revokedAt: new Date(), name: `${name}~revoked-${row.id.slice(0, 8)}`.slice(0, 128) };
    await this.tokens.update({ id: row.id }, revoked);
    return toServiceTokenView({ ...row, ...revoked });
  }

  async touch(id: string, at = new Date()): Promise<void> {
    await this.tokens.update({ id }, { lastUsedAt: at });
  }

  /**
   * Makes `name` the token whose secret is `secret` (ALERTMANAGER_WEBHOOK_TOKEN at boot): created when missing,
   * replaced when the secret changed, left alone otherwise. Returns what it did.
   */
  async seed(
    name: string,
    secret: string,
    roles: readonly Role[],
  ): Promise<'created' | 'rotated' | 'unchanged'> {
    const existing = await this.tokens.findOneBy({ name, revokedAt: IsNull() });
    if (existing?.tokenHash === tokenHash(secret)) return 'unchanged';
    if (existing) await this.revoke(name);
    try {
      await this.create({ name, roles, secret, createdBy: 'environment' });
    } catch (error) {
      // Another replica seeded it at the same moment.
      if (error instanceof ServiceTokenNameTakenError) return 'unchanged';
      throw error;
    }
    return existing ? 'rotated' : 'created';
  }
}
