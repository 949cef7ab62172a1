import type { RedisOptions } from 'ioredis';

/**
 * The connection options of a REDIS_URL (redis://[user:password@]host[:port][/db], rediss:// for TLS), for BullMQ:
 * it takes ioredis options rather than a URL, and with options (not a shared client) each queue and worker owns
 * and closes its connections. Beside createRedisClient, so that every connection of the project is made here.
 */
export function redisOptionsFromUrl(url: string, overrides: RedisOptions = {}): RedisOptions {
  const parsed = new URL(url);
  const db = parsed.pathname.replace(/^\//, '');
  return {
    host: parsed.hostname.replace(/^\[|\]$/g, ''),
    port: parsed.port ? Number(parsed.port) : 6379,
    ...(parsed.username && { username: decodeURIComponent(parsed.username) }),
    ...(parsed.password && { password: decodeURIComponent(parsed.password) }),
    ...(db && { db: Number(db) }),
    ...(parsed.protocol === 'rediss:' && { tls: {} }),
    ...overrides,
  };
}
