export { closeRedisClient, createRedisClient } from './redis-client.factory';
export { redisOptionsFromUrl } from './redis-options';
