import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { ArtifactNotFoundError } from './artifact-store.types';
import { S3ArtifactStore, S3ArtifactStoreOptions } from './s3-artifact.store';
import { S3rverFixture, startS3rver } from './testing/s3rver.fixture';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** A port nobody listens on: bound by the OS, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('S3ArtifactStore (against s3rver)', () => {
  let s3: S3rverFixture;
  let options: S3ArtifactStoreOptions;
  let store: S3ArtifactStore;
  const extraStores: S3ArtifactStore[] = [];

  const storeWith = (overrides: Partial<S3ArtifactStoreOptions>) => {
    const extra = new S3ArtifactStore({ ...options, ...overrides });
    extraStores.push(extra);
    return extra;
  };

  beforeAll(async () => {
    s3 = await startS3rver('artifacts-test');
    options = {
      bucket: s3.bucket,
      endpoint: s3.endpoint,
      region: 'us-east-1',
      accessKeyId: s3.accessKeyId,
      secretAccessKey: s3.secretAccessKey,
    };
    store = new S3ArtifactStore(options);
  });

  afterAll(async () => {
    for (const each of [store, ...extraStores]) each?.onModuleDestroy();
    await s3?.stop();
  });

  it('returns random binary content byte for byte', async () => {
    const body = randomBytes(4 * 1024 * 1024);
    await store.put('round-trip/v1/weights.bin', body);

    const back = await store.get('round-trip/v1/weights.bin');
    expect(back.length).toBe(body.length);
    expect(sha256(back)).toBe(sha256(body));
  });

  it('replaces an existing artifact', async () => {
    await store.put('replace/v1/model.json', Buffer.from('old'));
    await store.put('replace/v1/model.json', Buffer.from('new'));
    expect((await store.get('replace/v1/model.json')).toString()).toBe('new');
  });

  it('throws ArtifactNotFoundError for a missing key and says it does not exist', async () => {
    await expect(store.get('missing/v1/model.json')).rejects.toThrow(ArtifactNotFoundError);
    await expect(store.get('missing/v1/model.json')).rejects.toMatchObject({
      key: 'missing/v1/model.json',
      location: store.location,
    });
    expect(await store.exists('missing/v1/model.json')).toBe(false);

    await store.put('missing/v1/present.json', Buffer.from('{}'));
    expect(await store.exists('missing/v1/present.json')).toBe(true);
  });

  it('lists the keys under a prefix, sorted, without neighbours that only share a string prefix', async () => {
    for (const key of ['list/v1/z.bin', 'list/v1/a/b.bin', 'list/v1/a.json', 'list/v10/x.bin']) {
      await store.put(key, Buffer.from(key));
    }
    const expected = ['list/v1/a.json', 'list/v1/a/b.bin', 'list/v1/z.bin'];
    expect(await store.list('list/v1/')).toEqual(expected);
    expect(await store.list('list/v1')).toEqual(expected);
    expect(await store.list('list/')).toEqual([...expected, 'list/v10/x.bin']);
    expect(await store.list('list/v2/')).toEqual([]);
  });

  it('deletes only the keys under the prefix', async () => {
    for (const key of ['delete/v1/a.bin', 'delete/v1/sub/b.bin', 'delete/v10/c.bin', 'delete/v2/d.bin']) {
      await store.put(key, Buffer.from(key));
    }
    await store.deletePrefix('delete/v1');
    expect(await store.list('delete/')).toEqual(['delete/v10/c.bin', 'delete/v2/d.bin']);
    await expect(store.deletePrefix('delete/missing/')).resolves.toBeUndefined();
  });

  it.each(['', '/abs.bin', '../outside.bin', 'models/../x.bin', 'models\\v1\\a.bin'])(
    'refuses the key %j',
    async (key) => {
      const message = `Invalid artifact key ${JSON.stringify(key)}`;
      await expect(store.put(key, Buffer.from('x'))).rejects.toThrow(message);
      await expect(store.get(key)).rejects.toThrow(message);
      await expect(store.exists(key)).rejects.toThrow(message);
    },
  );

  it('refuses an invalid prefix', async () => {
    await expect(store.list('../')).rejects.toThrow('Invalid artifact prefix "../"');
    await expect(store.deletePrefix('/')).rejects.toThrow('Invalid artifact prefix "/"');
  });

  it('ping resolves when the bucket answers', async () => {
    await expect(store.ping()).resolves.toBeUndefined();
  });

  it('ping names a missing bucket', async () => {
    const missing = storeWith({ bucket: 'no-such-bucket' });
    await expect(missing.ping()).rejects.toThrow(
      `Artifact store ${missing.location} is not ready: bucket "no-such-bucket" does not exist`,
    );
  });

  it('ping reports rejected credentials', async () => {
    // s3rver checks the access key id but not V4 signatures, so an unknown id is what it can refuse.
    const wrong = storeWith({ accessKeyId: 'UNKNOWN' });
    await expect(wrong.ping()).rejects.toThrow('access to bucket "artifacts-test" is denied');
  });

  it('ping reports an unreachable endpoint', async () => {
    const endpoint = `http://127.0.0.1:${await closedPort()}`;
    const unreachable = storeWith({ endpoint, maxAttempts: 1 });
    await expect(unreachable.ping()).rejects.toThrow(
      new RegExp(`^Artifact store s3://artifacts-test at ${endpoint} is not ready: .*ECONNREFUSED`),
    );
  });
});
