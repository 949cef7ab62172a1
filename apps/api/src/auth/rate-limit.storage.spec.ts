import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { MemoryRateLimitStorage, RedisRateLimitStorage, type RateLimitStorage } from './rate-limit.storage';

const REDIS_URL = process.env.TEST_REDIS_URL || 'redis://127.0.0.1:6379';

describe.each([
  ['memory', () => new MemoryRateLimitStorage()],
  ['Redis', () => new RedisRateLimitStorage(REDIS_URL, `test-${randomUUID()}`)],
])('%s rate limit storage', (_name, create: () => RateLimitStorage) => {
  let storage: RateLimitStorage;
  beforeEach(() => (storage = create()));
  afterEach(() => storage.close());

  it('counts hits in a fixed window and blocks past the limit', async () => {
    const hits = [];
    for (let i = 0; i < 4; i++) hits.push(await storage.increment('k', 60_000, 3, 60_000, 'ip'));
    expect(hits.map((h) => [h.totalHits, h.isBlocked])).toEqual([
      [1, false],
      [2, false],
      [3, false],
      [4, true],
    ]);
    expect(hits[0].timeToExpire).toBeGreaterThan(55);
    expect(hits[3].timeToBlockExpire).toBeGreaterThan(55);
    expect((await storage.increment('k', 60_000, 3, 60_000, 'ip')).isBlocked).toBe(true);
    expect((await storage.increment('other', 60_000, 3, 60_000, 'ip')).isBlocked).toBe(false);
  });

  it('starts a new window when the old one is over', async () => {
    for (let i = 0; i < 3; i++) await storage.increment('w', 200, 2, 200, 'ip');
    expect((await storage.increment('w', 200, 2, 200, 'ip')).isBlocked).toBe(true);
    await new Promise((done) => setTimeout(done, 450));
    expect(await storage.increment('w', 200, 2, 200, 'ip')).toMatchObject({ totalHits: 1, isBlocked: false });
  });
});

describe('Redis rate limit storage', () => {
  it('is shared by the replicas of a deployment, and kept apart from other deployments', async () => {
    const [ours, theirs] = [`test-${randomUUID()}`, `test-${randomUUID()}`];
    const [a, b, other] = [
      new RedisRateLimitStorage(REDIS_URL, ours),
      new RedisRateLimitStorage(REDIS_URL, ours),
      new RedisRateLimitStorage(REDIS_URL, theirs),
    ];
    try {
      await a.increment('user:1', 60_000, 2, 60_000, 'user');
      await b.increment('user:1', 60_000, 2, 60_000, 'user');
      expect((await a.increment('user:1', 60_000, 2, 60_000, 'user')).isBlocked).toBe(true);
      expect(await other.increment('user:1', 60_000, 2, 60_000, 'user')).toMatchObject({
        totalHits: 1,
        isBlocked: false,
      });
    } finally {
      const redis = new Redis(REDIS_URL);
      const keys = [ours, theirs].flatMap((ns) => [
        `${ns}:rate-limit:user:1`,
        `${ns}:rate-limit:user:1:blocked`,
      ]);
      expect(await redis.del(...keys)).toBe(3);
      redis.disconnect();
      await Promise.all([a.close(), b.close(), other.close()]);
    }
  });

  it('lets requests through when Redis is unreachable', async () => {
    const storage = new RedisRateLimitStorage('redis://127.0.0.1:1', 'bull');
    try {
      for (let i = 0; i < 3; i++) {
        expect((await storage.increment('k', 60_000, 1, 60_000, 'ip')).isBlocked).toBe(false);
      }
    } finally {
      await storage.close();
    }
  });
});
