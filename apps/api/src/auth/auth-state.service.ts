import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { AppConfig, isRole } from '@app/config';
import type { ServiceTokenEntity } from '@app/database';
import { ServiceTokens, UserAccounts } from '@app/accounts';
import type { Principal } from './principal.types';

/** How often a service token's last_used_at is written, at most, per replica. */
const TOUCH_INTERVAL_MS = 60_000;
/** Unknown service tokens remembered as unknown, so that junk tokens do not each cost a query. */
const MAX_MISSES = 10_000;

interface CachedServiceToken {
  principal: Principal;
  expiresAt: number | null;
}

/**
 * What the guard needs from the database, kept in memory so that a request costs no query: the ids of disabled
 * users and the active service tokens. Reloaded every AUTH_CACHE_REFRESH_MS, so a user disabled or a token
 * revoked by another replica or by `npm run user` is refused within that delay; changes made through this replica
 * take effect at once.
 */
@Injectable()
export class AuthState implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(AuthState.name);
  private disabled = new Set<string>();
  private services = new Map<string, CachedServiceToken>();
  private misses = new Map<string, number>();
  private readonly touched = new Map<string, number>();
  /** Changes made here while a reload was reading, re-applied over what it read. */
  private readonly local = new Map<string, { disabled: boolean; at: number }>();
  private timer?: NodeJS.Timeout;
  private failing = false;

  constructor(
    private readonly config: AppConfig,
    private readonly users: UserAccounts,
    private readonly serviceTokens: ServiceTokens,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.reload();
    this.timer = setInterval(
      () => void this.reload().catch(() => undefined),
      this.config.env.AUTH_CACHE_REFRESH_MS,
    );
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  isDisabled(userId: string): boolean {
    return this.disabled.has(userId);
  }

  /** Records a change made by this replica so that it holds before the next reload. */
  setDisabled(userId: string, disabled: boolean): void {
    this.local.set(userId, { disabled, at: Date.now() });
    if (disabled) this.disabled.add(userId);
    else this.disabled.delete(userId);
  }

  serviceTokenRevoked(id: string): void {
    for (const [hash, cached] of this.services) if (cached.principal.id === id) this.services.delete(hash);
  }

  /** The principal of an active service token, by the hash of its secret. */
  async serviceToken(hash: string): Promise<Principal | undefined> {
    const now = Date.now();
    let cached = this.services.get(hash);
    if (!cached) {
      const missUntil = this.misses.get(hash);
      if (missUntil && missUntil > now) return undefined;
      // Created since the last reload (or never): one query, then remembered either way.
      const row = await this.serviceTokens.findActiveByHash(hash);
      if (!row) {
        if (this.misses.size >= MAX_MISSES) this.misses.clear();
        this.misses.set(hash, now + this.config.env.AUTH_CACHE_REFRESH_MS);
        return undefined;
      }
      cached = toCached(row);
      this.services.set(hash, cached);
    }
    if (cached.expiresAt !== null && cached.expiresAt <= now) return undefined;
    this.touch(cached.principal.id, now);
    return cached.principal;
  }

  /** Reads disabled users and active service tokens again. On a database failure the last state stays in force. */
  async reload(): Promise<void> {
    const startedAt = Date.now();
    try {
      const [disabledIds, tokens] = await Promise.all([
        this.users.disabledIds(),
        this.serviceTokens.active(),
      ]);
      const disabled = new Set(disabledIds);
      for (const [id, change] of this.local) {
        if (change.at < startedAt) this.local.delete(id);
        else if (change.disabled) disabled.add(id);
        else disabled.delete(id);
      }
      this.disabled = disabled;
      this.services = new Map(tokens.map((row) => [row.tokenHash, toCached(row)]));
      this.misses = new Map();
      if (this.failing) this.logger.log('auth state reloaded again');
      this.failing = false;
    } catch (error) {
      if (!this.failing) {
        this.logger.error(`could not reload disabled users and service tokens: ${(error as Error).message}`);
      }
      this.failing = true;
      throw error;
    }
  }

  private touch(id: string, now: number): void {
    if ((this.touched.get(id) ?? 0) + TOUCH_INTERVAL_MS > now) return;
    this.touched.set(id, now);
    this.serviceTokens.touch(id, new Date(now)).catch(() => undefined);
  }
}

function toCached(row: ServiceTokenEntity): CachedServiceToken {
  return {
    principal: { kind: 'service', id: row.id, name: row.name, roles: row.roles.filter(isRole) },
    expiresAt: row.expiresAt ? row.expiresAt.getTime() : null,
  };
}
