import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ArtifactNotFoundError } from './artifact-store.types';
import { LocalArtifactStore } from './local-artifact.store';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe('LocalArtifactStore', () => {
  let workspace: string;
  let root: string;
  let store: LocalArtifactStore;

  beforeEach(async () => {
    workspace = await mkdtemp(join(tmpdir(), 'local-artifacts-'));
    root = join(workspace, 'artifacts');
    store = new LocalArtifactStore(root);
  });

  afterEach(() => rm(workspace, { recursive: true, force: true }));

  it('returns random binary content byte for byte and leaves no temporary file behind', async () => {
    const body = randomBytes(4 * 1024 * 1024);
    await store.put('models/v1/weights.bin', body);

    expect(sha256(await store.get('models/v1/weights.bin'))).toBe(sha256(body));
    expect(await readdir(join(root, 'models', 'v1'))).toEqual(['weights.bin']);
  });

  it('replaces an existing artifact', async () => {
    await store.put('models/v1/model.json', Buffer.from('old'));
    await store.put('models/v1/model.json', Buffer.from('new'));
    expect((await store.get('models/v1/model.json')).toString()).toBe('new');
  });

  it('throws ArtifactNotFoundError for a missing key, including one that names a folder', async () => {
    await store.put('models/v1/model.json', Buffer.from('{}'));
    await expect(store.get('models/v2/model.json')).rejects.toThrow(ArtifactNotFoundError);
    await expect(store.get('models/v1')).rejects.toThrow(ArtifactNotFoundError);
    await expect(store.get('models/v1/model.json/inner')).rejects.toThrow(ArtifactNotFoundError);
    await expect(store.get('models/v2/model.json')).rejects.toMatchObject({
      key: 'models/v2/model.json',
      location: store.location,
    });
  });

  it('tells whether a key exists; folders are not keys', async () => {
    await store.put('models/v1/model.json', Buffer.from('{}'));
    expect(await store.exists('models/v1/model.json')).toBe(true);
    expect(await store.exists('models/v1/other.json')).toBe(false);
    expect(await store.exists('models/v1')).toBe(false);
  });

  it('lists the keys under a prefix, sorted, without neighbours that only share a string prefix', async () => {
    for (const key of ['models/v1/z.bin', 'models/v1/a/b.bin', 'models/v1/a.json', 'models/v10/x.bin']) {
      await store.put(key, Buffer.from(key));
    }
    const expected = ['models/v1/a.json', 'models/v1/a/b.bin', 'models/v1/z.bin'];
    expect(await store.list('models/v1/')).toEqual(expected);
    expect(await store.list('models/v1')).toEqual(expected);
    expect(await store.list('')).toEqual([...expected, 'models/v10/x.bin']);
    expect(await store.list('models/v2/')).toEqual([]);
  });

  it('does not list a write that is still in progress', async () => {
    await store.put('models/v1/model.json', Buffer.from('{}'));
    await writeFile(join(root, 'models', 'v1', '.weights.bin.0b5e0a56-0a4f-4d5e-9a3b-2f1c4e6d7a8b.tmp'), 'x');
    expect(await store.list('models/')).toEqual(['models/v1/model.json']);
  });

  it('deletes only the keys under the prefix', async () => {
    for (const key of ['models/v1/a.bin', 'models/v1/sub/b.bin', 'models/v10/c.bin', 'models/v2/d.bin']) {
      await store.put(key, Buffer.from(key));
    }
    await store.deletePrefix('models/v1');
    expect(await store.list('')).toEqual(['models/v10/c.bin', 'models/v2/d.bin']);

    await store.deletePrefix('models/v10/c.bin');
    expect(await store.exists('models/v10/c.bin')).toBe(true);

    await expect(store.deletePrefix('models/missing/')).resolves.toBeUndefined();
    await store.deletePrefix('');
    expect(await store.list('')).toEqual([]);
    await expect(store.ping()).resolves.toBeUndefined();
  });

  it.each([
    '',
    '/etc/passwd',
    '../outside.bin',
    'models/../../outside.bin',
    'models\\v1\\a.bin',
    'a//b',
    'a/',
  ])('refuses the key %j before touching the disk', async (key) => {
    const message = `Invalid artifact key ${JSON.stringify(key)}`;
    await expect(store.put(key, Buffer.from('x'))).rejects.toThrow(message);
    await expect(store.get(key)).rejects.toThrow(message);
    await expect(store.exists(key)).rejects.toThrow(message);
    expect(await readdir(workspace)).toEqual([]);
  });

  it.each(['/models', '../', 'models/../..'])('refuses the prefix %j', async (prefix) => {
    await expect(store.list(prefix)).rejects.toThrow(`Invalid artifact prefix ${JSON.stringify(prefix)}`);
    await expect(store.deletePrefix(prefix)).rejects.toThrow('Invalid artifact prefix');
  });

  it('ping creates a missing root and fails with the location when it cannot write there', async () => {
    await store.ping();
    expect(await readdir(root)).toEqual([]);

    const blocker = join(workspace, 'a-file');
    await writeFile(blocker, '');
    const blocked = new LocalArtifactStore(join(blocker, 'artifacts'));
    await expect(blocked.ping()).rejects.toThrow(`Artifact store ${blocked.location} is not writable`);
  });

  it('resolves a relative root against the working directory', () => {
    const relativeRoot = relative(process.cwd(), root);
    const fromRelative = new LocalArtifactStore(relativeRoot);
    expect(fromRelative.root).toBe(root);
    expect(fromRelative.location).toBe(pathToFileURL(root).href);
  });
});
