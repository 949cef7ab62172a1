import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { AppConfig } from '@app/config';
import { ModelVersionEntity, openDataSource } from '@app/database';
import { createPostgresTestSchema } from '@app/database/testing';
import { LocalArtifactStore, S3ArtifactStore, type ArtifactStore } from '@app/storage';
import { startS3rver } from '@app/storage/testing';
import { ModelRegistry } from './model.registry';
import { AlreadyInProductionError, CorruptArtifactError, NothingToRollBackError } from './registry.errors';
import { writeModelDirectory } from './testing/model-directory.fixture';

interface Backend {
  name: string;
  /**
   * Whether two connections of this one test process may write at once. Not on SQLite: better-sqlite3 waits for a
   * lock synchronously, so a second connection in the same thread would wait for a writer that cannot run.
   */
  concurrentWriters: boolean;
  /** A fresh database and store; newStore() opens another client on the same store, as a second process would. */
  create(root: string): Promise<{ config: AppConfig; newStore(): ArtifactStore; cleanup(): Promise<void> }>;
}

const postgres = async () => {
  const pg = await createPostgresTestSchema();
  return { env: { DATABASE_URL: pg.url, DATABASE_SCHEMA: pg.schema }, drop: pg.drop };
};

const BACKENDS: Backend[] = [
  {
    name: 'PostgreSQL and a local artifact directory',
    concurrentWriters: true,
    async create(root) {
      const { env, drop } = await postgres();
      return {
        config: AppConfig.fromEnvironment(env),
        newStore: () => new LocalArtifactStore(join(root, 'artifacts')),
        cleanup: drop,
      };
    },
  },
  {
    name: 'SQLite and a local artifact directory',
    concurrentWriters: false,
    async create(root) {
      return {
        config: AppConfig.fromEnvironment({ VAR_DIR: join(root, 'var') }),
        newStore: () => new LocalArtifactStore(join(root, 'artifacts')),
        cleanup: async () => undefined,
      };
    },
  },
  {
    name: 'PostgreSQL and S3',
    concurrentWriters: true,
    async create() {
      const [{ env, drop }, s3] = await Promise.all([postgres(), startS3rver('models')]);
      const clients: S3ArtifactStore[] = [];
      return {
        config: AppConfig.fromEnvironment(env),
        newStore: () => {
          const client = new S3ArtifactStore({ ...s3, region: 'us-east-1' });
          clients.push(client);
          return client;
        },
        cleanup: async () => {
          for (const client of clients) client.onModuleDestroy();
          await Promise.all([s3.stop(), drop()]);
        },
      };
    },
  },
];

describe.each(BACKENDS)('ModelRegistry on $name', (backend) => {
  let root: string;
  let config: AppConfig;
  let newStore: () => ArtifactStore;
  let cleanup: () => Promise<void>;
  let dataSource: DataSource;
  let store: ArtifactStore;
  let registry: ModelRegistry;
  let models = 0;

  const modelDir = () => {
    const dir = join(root, 'models', `model-${++models}`);
    mkdirSync(dir, { recursive: true });
    writeModelDirectory(dir, `model-${models}`);
    return dir;
  };
  const by = { createdBy: 'alice', source: 'test' };

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'registry-integration-'));
    ({ config, newStore, cleanup } = await backend.create(root));
    dataSource = await openDataSource(config);
    store = newStore();
    registry = new ModelRegistry(dataSource, store);
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await cleanup?.();
    rmSync(root, { recursive: true, force: true });
  });

  it('registers, promotes, rolls back and fetches versions', async () => {
    const v1 = await registry.register(modelDir(), by);
    const v2 = await registry.register(modelDir(), { ...by, parentVersion: v1.version });
    const v3 = await registry.register(modelDir(), { ...by, parentVersion: v2.version });
    expect([v1.version, v2.version, v3.version]).toEqual(['v1', 'v2', 'v3']);
    expect(await registry.get('v2')).toEqual(v2);
    expect((await registry.list()).map((v) => v.version)).toEqual(['v3', 'v2', 'v1']);
    expect(await store.list('models/v1')).toEqual(v1.files.map((f) => `models/v1/${f.path}`).sort());

    for (const version of ['v1', 'v2', 'v3']) await registry.promote(version, { actor: 'bob' });
    await expect(registry.promote('v3', { actor: 'bob' })).rejects.toBeInstanceOf(AlreadyInProductionError);

    const before = { production: await registry.production(), history: await registry.history() };
    const check = async () => {
      throw new Error('does not load');
    };
    await expect(registry.promote('v1', { actor: 'bob', check })).rejects.toThrow('does not load');
    await expect(registry.rollback({ actor: 'bob', check })).rejects.toThrow('does not load');
    expect({ production: await registry.production(), history: await registry.history() }).toEqual(before);

    expect((await registry.rollback({ actor: 'carol' })).production).toEqual(
      expect.objectContaining({ version: 'v2', revision: 4 }),
    );
    expect((await registry.rollback({ actor: 'carol' })).production.version).toBe('v1');
    await expect(registry.rollback({ actor: 'carol' })).rejects.toBeInstanceOf(NothingToRollBackError);
    expect((await registry.history()).map((h) => h.toVersion)).toEqual(['v1', 'v2', 'v3', 'v2', 'v1']);

    const cache = join(root, 'cache');
    const dir = await registry.fetch('v2', cache);
    for (const file of v2.files) {
      expect(readFileSync(join(dir, file.path))).toEqual(await store.get(`models/v2/${file.path}`));
    }

    await store.put('models/v3/text/weights.bin', Buffer.from('overwritten'));
    const error = await registry.fetch('v3', cache).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptArtifactError);
    expect((error as Error).message).toMatch(/v3 .*text\/weights\.bin does not match its checksum/);
    expect(readdirSync(cache)).toEqual(['v2']);
  });

  it('leaves no row and no objects when a registration fails half-way', async () => {
    const failing: ArtifactStore = Object.create(store);
    let puts = 0;
    failing.put = async (key, body) => {
      if (++puts === 3) throw new Error('connection reset');
      return store.put(key, body);
    };
    const versionsBefore = await dataSource.getRepository(ModelVersionEntity).count();
    const objectsBefore = await store.list('models');
    await expect(new ModelRegistry(dataSource, failing).register(modelDir(), by)).rejects.toThrow(
      'connection reset',
    );
    expect(await dataSource.getRepository(ModelVersionEntity).count()).toBe(versionsBefore);
    expect(await store.list('models')).toEqual(objectsBefore);
  });

  it('shares versions and the production pointer with another process', async () => {
    const other = await openDataSource(config);
    try {
      const elsewhere = new ModelRegistry(other, newStore());
      const registered = await elsewhere.register(modelDir(), by);
      await elsewhere.promote(registered.version, { actor: 'worker' });
      expect(await registry.get(registered.version)).toEqual(registered);
      expect(await registry.production()).toEqual(await elsewhere.production());
      expect(await registry.fetch(registered.version, join(root, 'shared-cache'))).toBe(
        join(root, 'shared-cache', registered.version),
      );
    } finally {
      await other.destroy();
    }
  });

  if (backend.concurrentWriters) {
    it('allocates distinct versions and loses no promotion when two processes write at once', async () => {
      const other = await openDataSource(config);
      try {
        const registries = [registry, new ModelRegistry(other, newStore())];
        const registered = await Promise.all([0, 1, 0, 1].map((i) => registries[i].register(modelDir(), by)));
        const versions = registered.map((r) => r.version);
        expect(new Set(versions).size).toBe(4);

        const { revision } = await registry.production();
        const outcomes = await Promise.allSettled(
          [...versions, ...versions].map((v, i) =>
            registries[i % 2].promote(v, { actor: `process-${i % 2}` }),
          ),
        );
        for (const outcome of outcomes) {
          if (outcome.status === 'rejected') expect(outcome.reason).toBeInstanceOf(AlreadyInProductionError);
        }
        const moves = outcomes.filter((o) => o.status === 'fulfilled').length;
        const production = await registry.production();
        expect(production.revision).toBe(revision + moves);
        const log = [...(await registry.history(moves + 1))].reverse();
        for (let i = 1; i < log.length; i++) expect(log[i].fromVersion).toBe(log[i - 1].toVersion);
        expect(log[log.length - 1].toVersion).toBe(production.version);
      } finally {
        await other.destroy();
      }
    });
  }
});
