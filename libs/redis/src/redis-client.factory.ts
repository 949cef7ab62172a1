import Redis, { type RedisOptions } from 'ioredis';

/** Prefix of every connection's CLIENT SETNAME, so that `CLIENT LIST` on a shared Redis says who holds what. */
const CONNECTION_NAME_PREFIX = 'product-classifier';

/**
 * The one place a Redis connection is made. The project's defaults: a connection named after its purpose, made on
 * first use rather than in a constructor (a process without Redis work opens none), and a command that fails
 * after one reconnection attempt instead of waiting for Redis forever. `options` overrides them per use: BullMQ
 * needs `maxRetriesPerRequest: null`, a subscriber keeps retrying.
 */
export function createRedisClient(url: string, purpose: string, options: RedisOptions = {}): Redis {
  return new Redis(url, {
    connectionName: `${CONNECTION_NAME_PREFIX}:${purpose}`,
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    ...options,
  });
}

/** Closes a connection whatever its state: QUIT when connected (pending replies arrive), else drop it. */
export async function closeRedisClient(redis: Redis): Promise<void> {
  if (redis.status === 'ready') await redis.quit().catch(() => redis.disconnect());
  else redis.disconnect();
}
