import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource, QueryDeepPartialEntity } from 'typeorm';
import { AppConfig } from '@app/config';
import { openDataSource, SQLITE_FILE } from './data-source.options';
import { isUniqueViolation } from './database.errors';
import { runInTransaction } from './database.transaction';
import { DATABASE_MIGRATIONS } from './database.schema';
import { FeedbackAuditEntity } from './entities/feedback-audit.entity';
import { FeedbackEntity } from './entities/feedback.entity';
import { FeedbackLoop1765152000000 } from './migrations/1765152000000-feedback-loop.migration';
import { FeedbackAuditRevision1765500000000 } from './migrations/1765500000000-feedback-audit-revision.migration';
import { ModelVersionEntity } from './entities/model-version.entity';
import { PredictionEntity } from './entities/prediction.entity';
import { ProductionPointerEntity } from './entities/production-pointer.entity';
import { PromotionAuditEntity } from './entities/promotion-audit.entity';
import { createPostgresTestSchema } from './testing/postgres-schema.fixture';
import { TEST_DATABASES as DRIVERS } from './testing/test-databases.fixture';

describe.each(DRIVERS)('database schema on $name', (driver) => {
  let config: AppConfig;
  let cleanup: () => Promise<void>;
  let dataSource: DataSource;

  /** Undoes the newest migrations, `migration` included. */
  async function undoMigrationsDownTo(migration: (typeof DATABASE_MIGRATIONS)[number]): Promise<void> {
    const newer = DATABASE_MIGRATIONS.length - DATABASE_MIGRATIONS.indexOf(migration);
    for (let i = 0; i < newer; i++) await dataSource.undoLastMigration({ transaction: 'all' });
  }

  beforeAll(async () => {
    ({ config, cleanup } = await driver.create());
    dataSource = await openDataSource(config);
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await cleanup?.();
  });

  it('runs every migration on a fresh database and creates the production pointer', async () => {
    const applied = await dataSource.query('SELECT name FROM migrations ORDER BY id');
    expect(applied.map((row: { name: string }) => row.name)).toEqual(
      DATABASE_MIGRATIONS.map((migration) => migration.name),
    );
    expect(await dataSource.getRepository(ProductionPointerEntity).find()).toEqual([
      { id: 1, version: null, revision: 0, updatedAt: null },
    ]);
  });

  it('leaves nothing pending when opened again', async () => {
    const again = await openDataSource(config);
    try {
      expect(await again.showMigrations()).toBe(false);
      const [{ n }] = await again.query('SELECT COUNT(*) AS n FROM migrations');
      expect(Number(n)).toBe(DATABASE_MIGRATIONS.length);
    } finally {
      await again.destroy();
    }
  });

  it('creates exactly the tables, columns and indexes the entities describe', async () => {
    const diff = await dataSource.driver.createSchemaBuilder().log();
    expect(diff.upQueries.map((q) => q.query)).toEqual([]);
  });

  it('round-trips a model version: JSON columns, dates and nullable fields', async () => {
    const repository = dataSource.getRepository(ModelVersionEntity);
    const createdAt = new Date('2026-01-02T03:04:05.678Z');
    const row: ModelVersionEntity = {
      version: 'v1',
      sequence: 1,
      createdAt,
      createdBy: 'alice',
      source: 'cli',
      parentVersion: null,
      dataFingerprint: 'sha256:abc',
      metrics: { validation_weighted_f1: { text: 0.91 }, nested: [1, 2, { a: null }] },
      modelCard: { rows: { products: 72 }, note: 'é "quoted"' },
      files: [{ path: 'model.json', sha256: 'f'.repeat(64), bytes: 123 }],
      artifactPrefix: 'models/v1/',
      status: 'ready',
      lineage: { trigger: 'admin:alice', job: '0190a5c2-0000-7000-8000-000000000000', seed: 0 },
      gate: null,
      idempotencyKey: null,
    };
    await repository.insert(row as QueryDeepPartialEntity<ModelVersionEntity>);
    expect(await repository.findOneByOrFail({ version: 'v1' })).toEqual(row);

    const { createdAt: _, ...withoutDate } = row;
    await repository.save({ ...withoutDate, version: 'v2', sequence: 2, parentVersion: 'v1' });
    const stored = await repository.findOneByOrFail({ version: 'v2' });
    expect(stored.createdAt).toBeInstanceOf(Date);
    expect(Math.abs(stored.createdAt.getTime() - Date.now())).toBeLessThan(60_000);
    expect(stored.parentVersion).toBe('v1');
  });

  it('reports a duplicate version or sequence as a unique violation', async () => {
    const repository = dataSource.getRepository(ModelVersionEntity);
    const base = await repository.findOneByOrFail({ version: 'v1' });
    const duplicate = (patch: Partial<ModelVersionEntity>) =>
      repository.insert({ ...base, ...patch } as QueryDeepPartialEntity<ModelVersionEntity>).then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(isUniqueViolation(await duplicate({}))).toBe(true);
    expect(isUniqueViolation(await duplicate({ version: 'v99' }))).toBe(true);
    expect(isUniqueViolation(new Error('other'))).toBe(false);
  });

  it('round-trips the production pointer and the promotion audit', async () => {
    const at = new Date('2026-03-04T05:06:07.089Z');
    const pointers = dataSource.getRepository(ProductionPointerEntity);
    await pointers.update({ id: 1 }, { version: 'v1', revision: 1, updatedAt: at });
    expect(await pointers.findOneByOrFail({ id: 1 })).toEqual({
      id: 1,
      version: 'v1',
      revision: 1,
      updatedAt: at,
    });

    const audit = dataSource.getRepository(PromotionAuditEntity);
    const first = await audit.save({
      at,
      actor: 'bob',
      action: 'promote',
      fromVersion: null,
      toVersion: 'v1',
    });
    const second = await audit.save(audit.create({ actor: 'bob', action: 'rollback', toVersion: 'v1' }));
    expect(second.id).toBeGreaterThan(first.id);
    expect(await audit.find({ order: { id: 'ASC' } })).toEqual([
      { id: first.id, at, actor: 'bob', action: 'promote', fromVersion: null, toVersion: 'v1', reason: null },
      expect.objectContaining({ id: second.id, action: 'rollback', at: expect.any(Date), reason: null }),
    ]);
  });

  it('round-trips predictions and feedback, and refuses feedback for an unknown prediction', async () => {
    const predictions = dataSource.getRepository(PredictionEntity);
    const prediction: PredictionEntity = {
      id: randomUUID(),
      createdAt: new Date('2026-05-06T07:08:09.010Z'),
      modelVersion: 'v1',
      prdtypecode: 2583,
      probability: 0.8765432101,
      top: [
        { prdtypecode: 2583, category: 'Piscine', probability: 0.8765432101 },
        { prdtypecode: 10, category: 'Livres', probability: 0.1 },
      ],
      modality: 'text+image',
      designation: 'Pompe de filtration',
      description: null,
      imageSha256: 'a'.repeat(64),
      latencyMs: 12.25,
      requestedBy: null,
      decision: 'review',
      decisionThreshold: 0.93,
    };
    await predictions.insert(prediction);
    expect(await predictions.findOneByOrFail({ id: prediction.id })).toEqual(prediction);

    const feedback = dataSource.getRepository(FeedbackEntity);
    const label: FeedbackEntity = {
      predictionId: prediction.id,
      modelVersion: 'v1',
      predictedPrdtypecode: 2583,
      truePrdtypecode: 10,
      predictedAt: prediction.createdAt,
      createdAt: new Date('2026-05-06T07:09:00.000Z'),
      labelledAt: new Date('2026-05-06T07:09:00.000Z'),
      reportedBy: 'shop-1',
    };
    await feedback.insert(label);
    expect(await feedback.findOneByOrFail({ predictionId: prediction.id })).toEqual(label);
    // One label per prediction: a second insert is refused, whoever sends it.
    await expect(feedback.insert({ ...label, truePrdtypecode: 40 })).rejects.toThrow();
  });

  it('keeps the labels stored before the feedback loop (newest per prediction) when migrating', async () => {
    const predictionId = randomUUID();
    await dataSource.getRepository(PredictionEntity).insert({
      id: predictionId,
      createdAt: new Date('2026-05-06T07:08:09.010Z'),
      modelVersion: 'v0',
      prdtypecode: 40,
      probability: 0.5,
      top: [],
      modality: 'text',
      designation: 'Jeu',
      description: null,
      imageSha256: null,
      latencyMs: 1,
      requestedBy: null,
    });
    await dataSource.getRepository(FeedbackEntity).clear();
    await undoMigrationsDownTo(FeedbackLoop1765152000000);
    const id = `'${predictionId}'`;
    await dataSource.query(
      `INSERT INTO "feedback" ("prediction_id", "true_prdtypecode", "reported_by") VALUES (${id}, 10, 'a'), (${id}, 2583, 'b')`,
    );
    await dataSource.runMigrations({ transaction: 'all' });
    expect(await dataSource.getRepository(FeedbackEntity).find()).toEqual([
      expect.objectContaining({
        predictionId,
        modelVersion: 'v0',
        predictedPrdtypecode: 40,
        truePrdtypecode: 2583,
        reportedBy: 'b',
      }),
    ]);
  });

  it('numbers the label overwrites audited before revisions existed, in the order they were written', async () => {
    await undoMigrationsDownTo(FeedbackAuditRevision1765500000000);
    const rows = [
      ['p1', 'b', '2026-05-06 07:09:01.000', 10, 40],
      ['p2', 'x', '2026-05-06 07:09:01.000', 10, 50],
      ['p1', 'c', '2026-05-06 07:09:02.000', 40, 50],
      ['p1', 'a', '2026-05-06 07:09:02.000', 50, 60],
    ];
    for (const [predictionId, id, at, previous, next] of rows) {
      await dataSource.query(
        `INSERT INTO "feedback_audit" ("id", "prediction_id", "previous_prdtypecode", "new_prdtypecode", "actor",
           "created_at") VALUES ('${id}', '${predictionId}', ${previous}, ${next}, 'admin', '${at}')`,
      );
    }
    await dataSource.runMigrations({ transaction: 'all' });
    const audit = await dataSource
      .getRepository(FeedbackAuditEntity)
      .find({ order: { predictionId: 'ASC', revision: 'ASC' } });
    expect(audit.map((row) => [row.predictionId, row.revision, row.id])).toEqual([
      ['p1', 1, 'b'],
      ['p1', 2, 'a'],
      ['p1', 3, 'c'],
      ['p2', 1, 'x'],
    ]);
    // Two overwrites can never claim the same place in a prediction's chain.
    await expect(
      dataSource.getRepository(FeedbackAuditEntity).insert({ ...audit[0], id: 'd' }),
    ).rejects.toThrow();
    await dataSource.getRepository(FeedbackAuditEntity).clear();
  });

  it('runs transactions started at once without mixing them, rolling back only the failed one', async () => {
    const audit = dataSource.getRepository(PromotionAuditEntity);
    await audit.clear();
    const outcomes = await Promise.allSettled(
      [1, 2, 3].map((i) =>
        runInTransaction(dataSource, async (manager) => {
          await manager.save(PromotionAuditEntity, {
            actor: `first-${i}`,
            action: 'promote',
            toVersion: 'v1',
          });
          await new Promise((done) => setTimeout(done, 5));
          if (i === 2) throw new Error(`transaction ${i} fails`);
          await manager.save(PromotionAuditEntity, {
            actor: `second-${i}`,
            action: 'promote',
            toVersion: 'v1',
          });
        }),
      ),
    );
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const actors = (await audit.find()).map((row) => row.actor).sort();
    expect(actors).toEqual(['first-1', 'first-3', 'second-1', 'second-3']);
  });

  if (driver.name === 'SQLite') {
    it('keeps the file under VAR_DIR in WAL mode with a busy timeout', async () => {
      expect(existsSync(join(config.env.VAR_DIR, SQLITE_FILE))).toBe(true);
      expect(await dataSource.query('PRAGMA journal_mode')).toEqual([{ journal_mode: 'wal' }]);
      const [timeout] = await dataSource.query('PRAGMA busy_timeout');
      expect(Object.values(timeout)[0]).toBeGreaterThanOrEqual(5000);
    });
  } else {
    it('migrates a schema that does not exist yet, once, when processes start together', async () => {
      const pg = await createPostgresTestSchema();
      await pg.drop();
      const env = { DATABASE_URL: pg.url, DATABASE_SCHEMA: pg.schema };
      const together = await Promise.all([1, 2, 3].map(() => openDataSource(AppConfig.fromEnvironment(env))));
      try {
        const [{ n }] = await together[0].query('SELECT COUNT(*) AS n FROM migrations');
        expect(Number(n)).toBe(DATABASE_MIGRATIONS.length);
      } finally {
        await Promise.all(together.map((ds) => ds.destroy()));
        await pg.drop();
      }
    });
  }
});
