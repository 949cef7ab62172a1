import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { AppConfig } from '@app/config';
import { ModelVersionEntity, openDataSource } from '@app/database';
import { ArtifactNotFoundError, type ArtifactStore } from '@app/storage';
import { ModelRegistry } from './model.registry';
import {
  AlreadyInProductionError,
  CorruptArtifactError,
  ModelVersionNotFoundError,
  NothingToRollBackError,
  RegistrationError,
} from './registry.errors';
import { writeModelDirectory } from './testing/model-directory.fixture';

/** Objects in a Map: lets tests inspect, corrupt and fail the store without a file system or a server. */
class InMemoryArtifactStore implements ArtifactStore {
  readonly location = 'memory://test';
  readonly objects = new Map<string, Buffer>();

  async put(key: string, body: Uint8Array): Promise<void> {
    this.objects.set(key, Buffer.from(body));
  }
  async get(key: string): Promise<Buffer> {
    const body = this.objects.get(key);
    if (!body) throw new ArtifactNotFoundError(this.location, key);
    return Buffer.from(body);
  }
  async exists(key: string): Promise<boolean> {
    return this.objects.has(key);
  }
  async list(prefix: string): Promise<string[]> {
    const folder = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
    return [...this.objects.keys()].filter((key) => key.startsWith(folder)).sort();
  }
  async deletePrefix(prefix: string): Promise<void> {
    for (const key of await this.list(prefix)) this.objects.delete(key);
  }
  async ping(): Promise<void> {}
}

describe('ModelRegistry', () => {
  let root: string;
  let dataSource: DataSource;
  let store: InMemoryArtifactStore;
  let registry: ModelRegistry;
  let modelCount = 0;

  /** A fresh, valid model directory. */
  const modelDir = (label = `model-${++modelCount}`) => {
    const dir = join(root, 'models', label);
    mkdirSync(dir, { recursive: true });
    writeModelDirectory(dir, label);
    return dir;
  };
  const by = { createdBy: 'alice', source: 'test' };

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'registry-spec-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  beforeEach(async () => {
    const varDir = mkdtempSync(join(root, 'var-'));
    dataSource = await openDataSource(AppConfig.fromEnvironment({ VAR_DIR: varDir }));
    store = new InMemoryArtifactStore();
    registry = new ModelRegistry(dataSource, store);
  });
  afterEach(async () => {
    jest.restoreAllMocks();
    await dataSource.destroy();
  });

  describe('register', () => {
    it('uploads every file with its checksum and records metrics, model card and lineage', async () => {
      const dir = modelDir('first');
      const v1 = await registry.register(dir, by);
      expect(v1).toEqual({
        version: 'v1',
        createdAt: expect.any(Date),
        createdBy: 'alice',
        source: 'test',
        parentVersion: null,
        dataFingerprint: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
        metrics: { validation_weighted_f1: { text: 0.9, image: 0.7 }, label: 'first' },
        modelCard: expect.objectContaining({ rows: { products: 72 }, label: 'first' }),
        files: expect.any(Array),
        artifactPrefix: 'models/v1/',
        lineage: null,
        gate: null,
        idempotencyKey: null,
      });
      expect(v1.files.map((f) => f.path)).toEqual([
        'text/weights.bin',
        'text/bias.bin',
        'image/weights.bin',
        'metrics.json',
        'model-card.json',
        'model.json',
      ]);
      for (const file of v1.files) {
        const stored = store.objects.get(`models/v1/${file.path}`);
        expect(stored).toEqual(readFileSync(join(dir, file.path)));
        expect(file.bytes).toBe(stored?.byteLength);
      }
      expect(store.objects.size).toBe(v1.files.length);

      const lineage = { trigger: 'admin:alice', jobId: 'job-1', seed: 3 };
      const gate = { promote: true, reasons: ['weighted F1 0.81 ≥ 0.80 − 0.005'] };
      const v2 = await registry.register(modelDir(), { ...by, parentVersion: 'v1', lineage, gate });
      expect(v2).toMatchObject({ lineage, gate });
      expect(await registry.get('v2')).toMatchObject({ lineage, gate });
      expect(v2).toEqual(expect.objectContaining({ version: 'v2', parentVersion: 'v1' }));
    });

    it.each([
      ['no model.json', (dir: string) => rmSync(join(dir, 'model.json')), /no model\.json/],
      [
        'a model.json that is not JSON',
        (dir: string) => writeFileSync(join(dir, 'model.json'), '{'),
        /not valid JSON/,
      ],
      [
        'a damaged file',
        (dir: string) => writeFileSync(join(dir, 'text/weights.bin'), 'damaged'),
        /checksum mismatch for text\/weights\.bin/,
      ],
      [
        'a missing file',
        (dir: string) => rmSync(join(dir, 'image/weights.bin')),
        /missing file image\/weights\.bin/,
      ],
      [
        'a path leaving the directory',
        (dir: string) => {
          const manifest = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
          manifest.components.text.files.weights.path = '../../etc/passwd';
          writeFileSync(join(dir, 'model.json'), JSON.stringify(manifest));
        },
        /not a plain path inside the directory/,
      ],
    ])('refuses a directory with %s, and allocates nothing', async (_, damage, message) => {
      const dir = modelDir();
      damage(dir);
      const error = await registry.register(dir, by).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RegistrationError);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).toContain(dir);
      expect(await dataSource.getRepository(ModelVersionEntity).count()).toBe(0);
      expect(store.objects.size).toBe(0);
    });

    it('refuses an unknown parent version', async () => {
      await expect(registry.register(modelDir(), { ...by, parentVersion: 'v7' })).rejects.toThrow(
        /parent version v7 is not registered/,
      );
    });

    it('leaves no row and no objects when an upload fails half-way, and rethrows', async () => {
      const put = store.put.bind(store);
      let calls = 0;
      jest.spyOn(store, 'put').mockImplementation(async (key, body) => {
        if (++calls === 3) throw new Error('store unavailable');
        return put(key, body);
      });
      await expect(registry.register(modelDir(), by)).rejects.toThrow('store unavailable');
      expect(calls).toBe(3);
      expect(await dataSource.getRepository(ModelVersionEntity).count()).toBe(0);
      expect(store.objects.size).toBe(0);

      jest.restoreAllMocks();
      expect((await registry.register(modelDir(), by)).version).toBe('v1');
    });

    it('hides a version until its registration has finished', async () => {
      let release!: () => void;
      let uploading!: () => void;
      const paused = new Promise<void>((resolve) => (release = resolve));
      const started = new Promise<void>((resolve) => (uploading = resolve));
      const put = store.put.bind(store);
      jest.spyOn(store, 'put').mockImplementation(async (key, body) => {
        uploading();
        await paused;
        return put(key, body);
      });
      const registering = registry.register(modelDir(), by);
      await started;
      expect(await dataSource.getRepository(ModelVersionEntity).countBy({ status: 'registering' })).toBe(1);
      expect(await registry.list()).toEqual([]);
      await expect(registry.get('v1')).rejects.toBeInstanceOf(ModelVersionNotFoundError);
      await expect(registry.promote('v1', { actor: 'bob' })).rejects.toBeInstanceOf(
        ModelVersionNotFoundError,
      );
      release();
      expect((await registering).version).toBe('v1');
      expect((await registry.list()).map((v) => v.version)).toEqual(['v1']);
    });

    it('gives registrations made at once distinct, consecutive versions', async () => {
      const records = await Promise.all([1, 2, 3, 4].map(() => registry.register(modelDir(), by)));
      expect(records.map((r) => r.version).sort()).toEqual(['v1', 'v2', 'v3', 'v4']);
    });

    it('registers one version per idempotency key, returning it to a registration that comes again', async () => {
      const first = await registry.register(modelDir(), { ...by, idempotencyKey: 'job-7' });
      expect(first).toMatchObject({ version: 'v1', idempotencyKey: 'job-7' });
      const objects = store.objects.size;
      expect(await registry.register(modelDir(), { ...by, idempotencyKey: 'job-7' })).toEqual(first);
      expect(store.objects.size).toBe(objects);
      expect(await registry.findByIdempotencyKey('job-7')).toEqual(first);
      expect(await registry.findByIdempotencyKey('job-8')).toBeNull();
      expect((await registry.register(modelDir(), { ...by, idempotencyKey: 'job-8' })).version).toBe('v2');
      await expect(registry.register(modelDir(), { ...by, idempotencyKey: 'x'.repeat(129) })).rejects.toThrow(
        /idempotency key must be 1 to 128/,
      );
    });

    it('lets one of registrations with the same key made at once become a version; the others remove theirs', async () => {
      const records = await Promise.all(
        [1, 2, 3].map(() => registry.register(modelDir(), { ...by, idempotencyKey: 'job-9' })),
      );
      const [winner] = records;
      expect(records).toEqual([winner, winner, winner]);
      expect((await registry.list()).map((v) => v.version)).toEqual([winner.version]);
      expect([...store.objects.keys()].every((key) => key.startsWith(winner.artifactPrefix))).toBe(true);
      const rows = await dataSource.getRepository(ModelVersionEntity).find();
      expect(rows.map((row) => [row.status, row.idempotencyKey])).toEqual([['ready', 'job-9']]);
    });
  });

  describe('list and get', () => {
    it('lists versions newest first, past v9, and names the missing version', async () => {
      for (let i = 0; i < 11; i++) await registry.register(modelDir(), by);
      const versions = (await registry.list()).map((v) => v.version);
      expect(versions.slice(0, 3)).toEqual(['v11', 'v10', 'v9']);
      expect(versions).toHaveLength(11);
      expect((await registry.get('v10')).version).toBe('v10');
      await expect(registry.get('v12')).rejects.toThrow(/Model version "v12" is not registered/);
    });
  });

  describe('promote and rollback', () => {
    beforeEach(async () => {
      for (let i = 0; i < 3; i++) await registry.register(modelDir(), by);
    });

    it('starts with no production version', async () => {
      expect(await registry.production()).toEqual({ version: null, revision: 0, updatedAt: null });
      expect(await registry.history()).toEqual([]);
    });

    it('moves the pointer, bumps the revision and writes one audit row', async () => {
      const checked: string[] = [];
      const result = await registry.promote('v2', {
        actor: 'bob',
        reason: 'better F1',
        check: async (record) => void checked.push(record.version),
      });
      expect(checked).toEqual(['v2']);
      expect(result.production).toEqual({ version: 'v2', revision: 1, updatedAt: expect.any(Date) });
      expect(result.audit).toEqual({
        id: expect.any(Number),
        at: result.production.updatedAt,
        actor: 'bob',
        action: 'promote',
        fromVersion: null,
        toVersion: 'v2',
        reason: 'better F1',
      });
      expect(await registry.production()).toEqual(result.production);
      expect(await registry.history()).toEqual([result.audit]);
    });

    it('refuses to promote the production version again, without an audit row or a check', async () => {
      await registry.promote('v1', { actor: 'bob' });
      const check = jest.fn();
      const error = await registry.promote('v1', { actor: 'bob', check }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AlreadyInProductionError);
      expect((error as Error).message).toMatch(/v1 is already in production/);
      expect(check).not.toHaveBeenCalled();
      expect(await registry.history()).toHaveLength(1);
      expect((await registry.production()).revision).toBe(1);
    });

    it('refuses an unknown version', async () => {
      await expect(registry.promote('v9', { actor: 'bob' })).rejects.toBeInstanceOf(
        ModelVersionNotFoundError,
      );
    });

    it('moves nothing when the check fails', async () => {
      const failing = async () => {
        throw new Error('model does not load');
      };
      const state = async () => ({
        production: await registry.production(),
        history: await registry.history(),
      });

      const empty = await state();
      await expect(registry.promote('v1', { actor: 'bob', check: failing })).rejects.toThrow(
        'model does not load',
      );
      expect(await state()).toEqual(empty);

      await registry.promote('v1', { actor: 'bob' });
      await registry.promote('v2', { actor: 'bob' });
      const promoted = await state();
      await expect(registry.promote('v3', { actor: 'bob', check: failing })).rejects.toThrow(
        'model does not load',
      );
      await expect(registry.rollback({ actor: 'bob', check: failing })).rejects.toThrow(
        'model does not load',
      );
      expect(await state()).toEqual(promoted);
    });

    it('rolls back through the production history as a stack', async () => {
      await expect(registry.rollback({ actor: 'carol' })).rejects.toThrow(/no version has been promoted/);
      await registry.promote('v1', { actor: 'bob' });
      await expect(registry.rollback({ actor: 'carol' })).rejects.toBeInstanceOf(NothingToRollBackError);
      await registry.promote('v2', { actor: 'bob' });
      await registry.promote('v3', { actor: 'bob' });

      const checked: string[] = [];
      const check = async (record: { version: string }) => void checked.push(record.version);
      const first = await registry.rollback({ actor: 'carol', reason: 'F1 dropped', check });
      expect(first.production).toEqual(expect.objectContaining({ version: 'v2', revision: 4 }));
      expect(first.audit).toEqual(
        expect.objectContaining({
          action: 'rollback',
          fromVersion: 'v3',
          toVersion: 'v2',
          reason: 'F1 dropped',
        }),
      );
      expect((await registry.rollback({ actor: 'carol', check })).production.version).toBe('v1');
      expect(checked).toEqual(['v2', 'v1']);
      await expect(registry.rollback({ actor: 'carol' })).rejects.toThrow(
        /v1 is the only version left in the production history/,
      );

      // A promotion after rollbacks pushes onto what is left: v1, v3.
      await registry.promote('v3', { actor: 'bob' });
      expect((await registry.rollback({ actor: 'carol' })).production.version).toBe('v1');

      const history = await registry.history();
      expect(history.map((h) => `${h.action}:${h.fromVersion}->${h.toVersion}`)).toEqual([
        'rollback:v3->v1',
        'promote:v1->v3',
        'rollback:v2->v1',
        'rollback:v3->v2',
        'promote:v2->v3',
        'promote:v1->v2',
        'promote:null->v1',
      ]);
      expect(await registry.history(2)).toEqual(history.slice(0, 2));
      expect((await registry.production()).revision).toBe(history.length);
    });

    it('loses no update when promotions run at once', async () => {
      const targets = ['v1', 'v2', 'v3', 'v1', 'v2', 'v3'];
      const outcomes = await Promise.allSettled(targets.map((v) => registry.promote(v, { actor: 'bob' })));
      const succeeded = outcomes.filter((o) => o.status === 'fulfilled').length;
      for (const outcome of outcomes) {
        if (outcome.status === 'rejected') expect(outcome.reason).toBeInstanceOf(AlreadyInProductionError);
      }
      const history = [...(await registry.history())].reverse();
      expect(history).toHaveLength(succeeded);
      expect((await registry.production()).revision).toBe(succeeded);
      history.forEach((entry, i) =>
        expect(entry.fromVersion).toBe(i === 0 ? null : history[i - 1].toVersion),
      );
      expect((await registry.production()).version).toBe(history[history.length - 1].toVersion);
    });
  });

  describe('fetch', () => {
    let cache: string;
    beforeEach(async () => {
      cache = mkdtempSync(join(root, 'cache-'));
      await registry.register(modelDir(), by);
    });

    it('downloads every file into <cacheRoot>/<version> and reuses a verified copy', async () => {
      const dir = await registry.fetch('v1', cache);
      expect(dir).toBe(join(cache, 'v1'));
      const { files } = await registry.get('v1');
      for (const file of files)
        expect(readFileSync(join(dir, file.path))).toEqual(store.objects.get(`models/v1/${file.path}`));
      expect(readdirSync(cache)).toEqual(['v1']);

      const get = jest.spyOn(store, 'get');
      expect(await registry.fetch('v1', cache)).toBe(dir);
      expect(get).not.toHaveBeenCalled();
    });

    it('downloads again over a cached copy that fails its checksums', async () => {
      const dir = await registry.fetch('v1', cache);
      writeFileSync(join(dir, 'text/weights.bin'), 'tampered');
      rmSync(join(dir, 'metrics.json'));
      expect(await registry.fetch('v1', cache)).toBe(dir);
      expect(readFileSync(join(dir, 'text/weights.bin'))).toEqual(
        store.objects.get('models/v1/text/weights.bin'),
      );
      expect(existsSync(join(dir, 'metrics.json'))).toBe(true);
    });

    it.each([
      [
        'corrupted',
        () => store.objects.set('models/v1/text/bias.bin', Buffer.from('flipped')),
        /does not match its checksum/,
      ],
      ['missing', () => store.objects.delete('models/v1/text/bias.bin'), /is missing from memory:\/\/test/],
    ])(
      'throws CorruptArtifactError for a %s object and leaves no partial directory',
      async (_, damage, detail) => {
        damage();
        const error = await registry.fetch('v1', cache).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(CorruptArtifactError);
        expect(error).toEqual(expect.objectContaining({ version: 'v1', path: 'text/bias.bin' }));
        expect((error as Error).message).toMatch(
          /Model version v1 is corrupt in the artifact store: text\/bias\.bin/,
        );
        expect((error as Error).message).toMatch(detail);
        expect(readdirSync(cache)).toEqual([]);
      },
    );

    it('gives concurrent fetches of one version the same complete directory', async () => {
      const dirs = await Promise.all([1, 2, 3].map(() => registry.fetch('v1', cache)));
      expect(new Set(dirs)).toEqual(new Set([join(cache, 'v1')]));
      expect(readdirSync(cache)).toEqual(['v1']);
    });

    it('refuses an unknown version', async () => {
      await expect(registry.fetch('v2', cache)).rejects.toBeInstanceOf(ModelVersionNotFoundError);
    });
  });
});
