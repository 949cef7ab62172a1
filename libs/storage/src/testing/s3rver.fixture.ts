import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface S3rverFixture {
  /** e.g. http://127.0.0.1:41234 */
  endpoint: string;
  bucket: string;
  accessKeyId: 'S3RVER';
  secretAccessKey: 'S3RVER';
  /** Closes the server and deletes its data; safe to call more than once. */
  stop(): Promise<void>;
}

/**
 * Starts an in-process S3-compatible server on a free port with one empty bucket, storing its data in a
 * fresh temporary directory. s3rver refuses unknown access key ids (it does not verify V4 signatures), so
 * clients must use the returned credentials.
 *
 * Listing more than 1000 keys at once fails with InternalError on Node 17+: s3rver encrypts its continuation
 * tokens with DES, which OpenSSL 3 only offers under --openssl-legacy-provider. Keep test prefixes smaller.
 */
export async function startS3rver(bucket: string): Promise<S3rverFixture> {
  // Loaded on demand: s3rver is a devDependency, and production code imports this library's index.
  const { default: S3rver } = await import('s3rver');
  const directory = await mkdtemp(join(tmpdir(), 's3rver-'));
  const server = new S3rver({
    // An IPv4 literal: "localhost" may resolve to ::1 first and the client would then try both families.
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket }],
  });
  let port: number;
  try {
    ({ port } = await server.run());
  } catch (error) {
    await server.close().catch(() => undefined);
    await removeDirectory(directory);
    throw error;
  }

  let stopping: Promise<void> | undefined;
  const stop = async (): Promise<void> => {
    const closed = server.close();
    // Keep-alive sockets from clients that were never destroyed would otherwise hold close() open forever.
    server.httpServer?.closeAllConnections();
    await closed;
    await removeDirectory(directory);
  };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    stop: () => (stopping ??= stop()),
  };
}

function removeDirectory(directory: string): Promise<void> {
  return rm(directory, { recursive: true, force: true, maxRetries: 3 });
}
