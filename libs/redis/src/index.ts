export { closeRedisClient, createRedisClient } from './redis-client.factory';
