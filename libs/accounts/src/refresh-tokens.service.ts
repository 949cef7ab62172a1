import { randomUUID } from 'node:crypto';
import { DataSource, IsNull, Not, Repository } from 'typeorm';
import { RefreshTokenEntity } from '@app/database';
import { randomToken, tokenHash } from './token-hash.util';

const REFRESH_TOKEN_PREFIX = 'rt_';

/** A refresh token that cannot be exchanged; the message is for the error description. */
export class InvalidRefreshTokenError extends Error {
  constructor(
    message: string,
    /** True when a used or revoked token came back: its family was revoked. */
    readonly reuse = false,
  ) {
    super(message);
  }
}

/**
 * Refresh tokens with rotation and reuse detection (OAuth 2.0 Security BCP): each exchange marks the token used
 * and issues the next one of its family; presenting a used or revoked token again means it leaked, so the whole
 * family (every token descended from that login) is revoked.
 */
export class RefreshTokens {
  private readonly tokens: Repository<RefreshTokenEntity>;

  constructor(
    dataSource: DataSource,
    private readonly ttlDays: number,
  ) {
    this.tokens = dataSource.getRepository(RefreshTokenEntity);
  }

  /** A new token for the user: a new family after a login, the same family after a rotation. */
  async issue(userId: string, familyId: string = randomUUID()): Promise<string> {
    const token = randomToken(REFRESH_TOKEN_PREFIX);
    await this.tokens.insert({
      id: randomUUID(),
      familyId,
      userId,
      tokenHash: tokenHash(token),
      expiresAt: new Date(Date.now() + this.ttlDays * 86_400_000),
    });
    return token;
  }

  /** Exchanges a token for the next one of its family; the caller issues the access token for `userId`. */
  async rotate(token: string): Promise<{ userId: string; familyId: string; token: string }> {
    const row = await this.tokens.findOneBy({ tokenHash: tokenHash(token) });
    if (!row) throw new InvalidRefreshTokenError('unknown refresh token');
    // A family is dead once any of its tokens is revoked. Checking the family rather than the token also catches
    // a token issued by a rotation that raced with a reuse: the revocation may have missed the new row, never
    // the older ones.
    if (await this.tokens.exists({ where: { familyId: row.familyId, revokedAt: Not(IsNull()) } })) {
      await this.revokeFamily(row.familyId);
      throw new InvalidRefreshTokenError('the refresh token was revoked', true);
    }
    if (row.usedAt) return this.reused(row.familyId);
    if (row.expiresAt.getTime() <= Date.now())
      throw new InvalidRefreshTokenError('the refresh token expired');
    // Compare-and-set: of two requests racing with the same token, exactly one wins; the other is a reuse.
    const claimed = await this.tokens.update(
      { id: row.id, usedAt: IsNull(), revokedAt: IsNull() },
      { usedAt: new Date() },
    );
    if (claimed.affected !== 1) return this.reused(row.familyId);
    return { userId: row.userId, familyId: row.familyId, token: await this.issue(row.userId, row.familyId) };
  }

  private async reused(familyId: string): Promise<never> {
    await this.revokeFamily(familyId);
    throw new InvalidRefreshTokenError(
      'the refresh token was already used: every token of its login is revoked',
      true,
    );
  }

  async revokeFamily(familyId: string): Promise<void> {
    await this.tokens.update({ familyId, revokedAt: IsNull() }, { revokedAt: new Date() });
  }

  /** Revokes the family of a token the client no longer wants (logout); unknown tokens are ignored. */
  async revoke(token: string): Promise<void> {
    const row = await this.tokens.findOneBy({ tokenHash: tokenHash(token) });
    if (row) await this.revokeFamily(row.familyId);
  }
}
