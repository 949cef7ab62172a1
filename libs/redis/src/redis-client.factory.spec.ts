import { closeRedisClient, createRedisClient } from './redis-client.factory';

const REDIS_URL = process.env.TEST_REDIS_URL || 'redis://127.0.0.1:6379';

describe('createRedisClient', () => {
  it('connects on first use, under a name that says what the connection is for', async () => {
    const redis = createRedisClient(REDIS_URL, 'spec');
    try {
      expect(redis.status).toBe('wait');
      await expect(redis.client('GETNAME')).resolves.toBe('product-classifier:spec');
    } finally {
      await closeRedisClient(redis);
    }
    await expect(redis.ping()).rejects.toThrow('Connection is closed');
  });

  it('fails a command against an unreachable Redis instead of waiting for it', async () => {
    const redis = createRedisClient('redis://127.0.0.1:1', 'unreachable');
    redis.on('error', () => undefined);
    try {
      await expect(redis.ping()).rejects.toThrow();
    } finally {
      await closeRedisClient(redis);
    }
  });

  it('lets a caller override the defaults', () => {
    const redis = createRedisClient(REDIS_URL, 'queue', { maxRetriesPerRequest: null });
    expect(redis.options.maxRetriesPerRequest).toBeNull();
    expect(redis.options.connectionName).toBe('product-classifier:queue');
    redis.disconnect();
  });
});
