import { redisOptionsFromUrl } from './redis.options';

describe('redisOptionsFromUrl', () => {
  it('reads host, port, credentials, database and TLS from a REDIS_URL', () => {
    expect(redisOptionsFromUrl('redis://127.0.0.1:6380/2')).toEqual({ host: '127.0.0.1', port: 6380, db: 2 });
    expect(redisOptionsFromUrl('rediss://app:p%40ss@cache.example.com')).toEqual({
      host: 'cache.example.com',
      port: 6379,
      username: 'app',
      password: 'p@ss',
      tls: {},
    });
    expect(redisOptionsFromUrl('redis://[::1]:6379', { maxRetriesPerRequest: null })).toEqual({
      host: '::1',
      port: 6379,
      maxRetriesPerRequest: null,
    });
  });
});
