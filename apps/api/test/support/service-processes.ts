import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import type { PostgresTestSchema } from '@app/database/testing';
import type { S3rverFixture } from '@app/storage/testing';

export const REDIS_URL = 'redis://127.0.0.1:6379';

/** A TCP port free on 127.0.0.1 now, for a child process to listen on. */
export async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
    server.on('error', fail);
  });
}

/** The production drivers' settings: this schema, this s3rver, Redis, and a queue of this run's own. */
export function servicesEnv(schema: PostgresTestSchema, s3: S3rverFixture) {
  return {
    DATABASE_URL: schema.url,
    DATABASE_SCHEMA: schema.schema,
    S3_BUCKET: s3.bucket,
    S3_ENDPOINT: s3.endpoint,
    S3_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
    REDIS_URL,
    // Other runs sharing the Redis keep their jobs.
    QUEUE_PREFIX: `test-${randomUUID()}`,
  };
}
