export { closeRedisClient, createRedisClient } from './redis-client.factory';
export { inRedisNamespace } from './redis-namespace';
export { redisOptionsFromUrl } from './redis-options';
