import { mkdtemp, readdir, readFile, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256 } from '@app/checksum';
import { LocalArtifactStore, S3ArtifactStore } from '@app/storage';
import { PredictionImages } from './prediction-images.store';

describe('PredictionImages (local artifact store)', () => {
  let root: string;
  let store: LocalArtifactStore;
  let images: PredictionImages;
  const photo = Buffer.from('not really a jpeg, but bytes all the same');

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'prediction-images-'));
    store = new LocalArtifactStore(join(root, 'artifacts'));
    images = new PredictionImages(store);
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('stores a photo once under prediction-images/<sha256>, however often it is saved', async () => {
    expect(await images.save(photo)).toEqual({ sha256: sha256(photo), result: 'stored' });
    expect(await images.save(photo)).toEqual({ sha256: sha256(photo), result: 'existing' });
    expect(await store.list('')).toEqual([`prediction-images/${sha256(photo)}`]);
    expect(await store.get(`prediction-images/${sha256(photo)}`)).toEqual(photo);
  });

  it('fetches a stored photo to a file, and answers undefined for one the store does not have', async () => {
    const { sha256: sha } = await images.save(photo);
    const cache = join(root, 'cache');
    const path = await images.fetchTo(sha, cache);
    expect(path).toBe(join(cache, sha));
    expect(await readFile(path!)).toEqual(photo);
    expect(await images.fetchTo('0'.repeat(64), cache)).toBeUndefined();
    await expect(images.fetchTo('../../etc/passwd', cache)).rejects.toThrow(/not a sha256/);
  });

  it('drops a cached copy once retention removed the photo from the store', async () => {
    const { sha256: sha } = await images.save(photo);
    const cache = join(root, 'cache');
    await images.fetchTo(sha, cache);
    await store.deletePrefix('prediction-images');
    expect(await images.fetchTo(sha, cache)).toBeUndefined();
    expect(await readdir(cache)).toEqual([]);
  });

  it('fetches many photos at once, each distinct one once, leaving out those the store lost', async () => {
    const other = Buffer.from('another photo');
    const [a, b] = [await images.save(photo), await images.save(other)];
    const paths = await images.fetchAllTo(
      [a.sha256, b.sha256, a.sha256, 'f'.repeat(64)],
      join(root, 'cache'),
    );
    expect([...paths.keys()].sort()).toEqual([a.sha256, b.sha256].sort());
    expect(await readFile(paths.get(b.sha256)!)).toEqual(other);
  });

  it('expires the photos stored longer ago than the retention, and nothing else', async () => {
    const now = new Date('2026-12-01T00:00:00Z');
    const old = await images.save(Buffer.from('old photo'));
    const recent = await images.save(Buffer.from('recent photo'));
    await store.put('models/v1/model.json', Buffer.from('{}'));
    const age = (days: number) => new Date(now.getTime() - days * 86_400_000);
    await utimes(join(store.root, 'prediction-images', old.sha256), age(91), age(91));
    await utimes(join(store.root, 'prediction-images', recent.sha256), age(89), age(89));
    await utimes(join(store.root, 'models', 'v1', 'model.json'), age(400), age(400));

    expect(await images.expire(90, now)).toBe(1);
    expect(await store.list('')).toEqual(['models/v1/model.json', `prediction-images/${recent.sha256}`]);
  });

  it('leaves expiry to the bucket lifecycle rule on S3', async () => {
    const s3 = new S3ArtifactStore({ bucket: 'models', region: 'us-east-1', endpoint: 'http://127.0.0.1:9' });
    expect(await new PredictionImages(s3).expire(90)).toBeNull();
    s3.onModuleDestroy();
  });
});
