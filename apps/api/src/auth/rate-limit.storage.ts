import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import type Redis from 'ioredis';
import { closeRedisClient, createRedisClient, inRedisNamespace } from '@app/redis';

export interface RateLimitRecord {
  totalHits: number;
  timeToExpire: number;
  isBlocked: boolean;
  timeToBlockExpire: number;
}

/** Throttler storage that can be closed at shutdown. */
export interface RateLimitStorage extends ThrottlerStorage {
  close(): Promise<void>;
}

const SWEEP_INTERVAL_MS = 60_000;
const COMMAND_TIMEOUT_MS = 500;

/**
 * Fixed-window counters in memory: O(1) per request whatever the limit (the throttler's own storage keeps one
 * timestamp per hit, which costs a scan of up to `limit` entries per request at high limits). Per process.
 */
export class MemoryRateLimitStorage implements RateLimitStorage, OnApplicationShutdown {
  private readonly windows = new Map<string, { hits: number; resetAt: number; blockedUntil: number }>();
  private readonly sweeper = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS).unref();

  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    _throttlerName?: string,
  ): Promise<RateLimitRecord> {
    const now = Date.now();
    let window = this.windows.get(key);
    if (!window || (window.resetAt <= now && window.blockedUntil <= now)) {
      window = { hits: 0, resetAt: now + ttl, blockedUntil: 0 };
      this.windows.set(key, window);
    }
    if (window.blockedUntil > now) {
      return blocked(window.hits, window.resetAt - now, window.blockedUntil - now);
    }
    window.hits += 1;
    if (window.hits > limit) {
      window.blockedUntil = now + blockDuration;
      window.resetAt = Math.max(window.resetAt, window.blockedUntil);
      return blocked(window.hits, window.resetAt - now, blockDuration);
    }
    return {
      totalHits: window.hits,
      timeToExpire: seconds(window.resetAt - now),
      isBlocked: false,
      timeToBlockExpire: 0,
    };
  }

  onApplicationShutdown(): Promise<void> {
    return this.close();
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.windows.clear();
  }

  private sweep(now = Date.now()): void {
    for (const [key, window] of this.windows) {
      if (window.resetAt <= now && window.blockedUntil <= now) this.windows.delete(key);
    }
  }
}

/**
 * The same fixed windows in Redis, shared by every replica of a deployment (keys `<QUEUE_PREFIX>:rate-limit:…`):
 * one round trip (a Lua script) per limit and request. When Redis is unreachable the request is let through (and
 * the failure logged once): rate limiting must not take the service down with it.
 */
export class RedisRateLimitStorage implements RateLimitStorage, OnApplicationShutdown {
  private readonly logger = new Logger('RateLimit');
  private readonly redis: Redis;
  private failing = false;
  private connectedOnce = false;

  private static readonly SCRIPT = `
    local blockedFor = redis.call('PTTL', KEYS[2])
    if blockedFor > 0 then
      return {tonumber(redis.call('GET', KEYS[1]) or 0), redis.call('PTTL', KEYS[1]), 1, blockedFor}
    end
    local hits = redis.call('INCR', KEYS[1])
    if hits == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
    local ttl = redis.call('PTTL', KEYS[1])
    if hits > tonumber(ARGV[2]) then
      redis.call('SET', KEYS[2], 1, 'PX', ARGV[3])
      return {hits, ttl, 1, tonumber(ARGV[3])}
    end
    return {hits, ttl, 0, 0}`;

  private readonly prefix: string;

  /** `namespace`: the deployment's QUEUE_PREFIX; replicas of other deployments keep their own counts. */
  constructor(url: string, namespace: string) {
    this.prefix = inRedisNamespace(namespace, 'rate-limit:');
    // Connected at boot, so that the first requests are counted; a command never waits long for Redis.
    this.redis = createRedisClient(url, 'rate-limit', {
      lazyConnect: false,
      commandTimeout: COMMAND_TIMEOUT_MS,
    });
    this.redis.on('error', (error: Error) => this.report(error));
    this.redis.once('ready', () => (this.connectedOnce = true));
    this.redis.defineCommand('rateLimitHit', { numberOfKeys: 2, lua: RedisRateLimitStorage.SCRIPT });
  }

  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    _throttlerName?: string,
  ): Promise<RateLimitRecord> {
    const open = { totalHits: 0, timeToExpire: seconds(ttl), isBlocked: false, timeToBlockExpire: 0 };
    // Connection lost: answer at once rather than queue behind a reconnection.
    if (this.connectedOnce && this.redis.status !== 'ready') return open;
    try {
      const hit = (this.redis as unknown as RateLimitCommands).rateLimitHit;
      const [hits, pttl, isBlocked, blockedFor] = await hit.call(
        this.redis,
        `${this.prefix}${key}`,
        `${this.prefix}${key}:blocked`,
        ttl,
        limit,
        blockDuration,
      );
      if (this.failing) this.logger.log('Redis answers again: rate limits apply across replicas');
      this.failing = false;
      return isBlocked === 1
        ? blocked(hits, Math.max(pttl, 0), blockedFor)
        : {
            totalHits: hits,
            timeToExpire: seconds(Math.max(pttl, 0)),
            isBlocked: false,
            timeToBlockExpire: 0,
          };
    } catch (error) {
      this.report(error as Error);
      return open;
    }
  }

  onApplicationShutdown(): Promise<void> {
    return this.close();
  }

  close(): Promise<void> {
    return closeRedisClient(this.redis);
  }

  private report(error: Error): void {
    if (!this.failing) this.logger.warn(`Redis unavailable, requests are not rate limited: ${error.message}`);
    this.failing = true;
  }
}

interface RateLimitCommands {
  rateLimitHit(...args: (string | number)[]): Promise<[number, number, number, number]>;
}

function seconds(ms: number): number {
  return Math.ceil(ms / 1000);
}

function blocked(hits: number, expireMs: number, blockMs: number): RateLimitRecord {
  return {
    totalHits: hits,
    timeToExpire: seconds(expireMs),
    isBlocked: true,
    timeToBlockExpire: seconds(blockMs),
  };
}
