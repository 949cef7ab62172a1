import { randomUUID } from 'node:crypto';

/** The Redis every integration test and bench shares (127.0.0.1:6379). */
export const TEST_REDIS_URL = 'redis://127.0.0.1:6379';

/** A PostgreSQL schema of the test database (what createPostgresTestSchema gives). */
export interface DatabaseUnderTest {
  url: string;
  schema: string;
}

/** An S3-compatible server (what startS3rver gives). */
export interface ObjectStoreUnderTest {
  bucket: string;
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export function databaseSettings(database: DatabaseUnderTest) {
  return { DATABASE_URL: database.url, DATABASE_SCHEMA: database.schema };
}

export function objectStoreSettings(store: ObjectStoreUnderTest) {
  return {
    S3_BUCKET: store.bucket,
    S3_ENDPOINT: store.endpoint,
    S3_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: store.accessKeyId,
    AWS_SECRET_ACCESS_KEY: store.secretAccessKey,
  };
}

/** Redis, with a queue prefix of this run's own so that other runs sharing the Redis keep their jobs. */
export function redisSettings(queuePrefix = `test-${randomUUID()}`) {
  return { REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: queuePrefix };
}

/** The production drivers' settings: this PostgreSQL schema, this S3 server, Redis and a queue of this run's own. */
export function productionSettings(
  database: DatabaseUnderTest,
  store: ObjectStoreUnderTest,
  queuePrefix?: string,
) {
  return { ...databaseSettings(database), ...objectStoreSettings(store), ...redisSettings(queuePrefix) };
}
