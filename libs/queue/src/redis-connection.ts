import type { RedisOptions } from 'ioredis';

/**
 * BullMQ takes ioredis options, not a URL: redis://[user:password@]host[:port][/db], rediss:// for TLS. An options
 * object (rather than a shared client) lets each queue and worker own and close its connections.
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
