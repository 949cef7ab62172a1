export { closeRedisClient, createRedisClient } from './redis-client.factory';
export { inRedisNamespace } from './redis-namespace.util';
export { redisOptionsFromUrl } from './redis.options';
