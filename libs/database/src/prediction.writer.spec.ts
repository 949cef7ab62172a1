import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { PredictionEntity } from './entities/prediction.entity';
import { runInTransaction } from './database.transaction';
import { PredictionWriter, type PredictionRow } from './prediction.writer';
import { openTestDatabase, TEST_DATABASES, type OpenTestDatabase } from './testing/test-databases.fixture';

function row(overrides: Partial<PredictionRow> = {}): PredictionRow {
  return {
    id: randomUUID(),
    createdAt: new Date('2026-11-27T10:11:12.345Z'),
    modelVersion: 'v7',
    prdtypecode: 2583,
    probability: 0.8125,
    top: [
      { prdtypecode: 2583, category: 'Piscines et accessoires', probability: 0.8125 },
      { prdtypecode: 1560, category: "Mobilier d'intérieur", probability: 0.0625 },
    ],
    modality: 'text+image',
    designation: 'Pompe "filtration" piscine, 3 m³/h',
    description: null,
    imageSha256: 'a'.repeat(64),
    latencyMs: 1.5,
    requestedBy: 'client-1',
    decision: 'review',
    decisionThreshold: 0.875,
    ...overrides,
  };
}

describe.each(TEST_DATABASES)('PredictionWriter on $name', (database) => {
  let dataSource: DataSource;
  let db: OpenTestDatabase;
  const writers: PredictionWriter[] = [];
  const newWriter = () => {
    const writer = new PredictionWriter(dataSource);
    writers.push(writer);
    return writer;
  };

  beforeAll(async () => {
    db = await openTestDatabase(database);
    dataSource = db.dataSource;
  });

  afterAll(async () => {
    await Promise.all(writers.map((writer) => writer.close()));
    await db?.close();
  });

  it('writes rows that TypeORM reads back exactly as they were given', async () => {
    const rows = [
      row(),
      row({ description: 'Très <b>beau</b>\nmodèle', imageSha256: null, requestedBy: null }),
    ];
    await newWriter().insert(rows);
    const repository = dataSource.getRepository(PredictionEntity);
    for (const expected of rows) {
      expect(await repository.findOneByOrFail({ id: expected.id })).toEqual(expected);
    }
  });

  it('ignores ids already stored, so a retried write neither fails nor duplicates', async () => {
    const first = row();
    const writer = newWriter();
    await writer.insert([first]);
    await writer.insert([{ ...first, prdtypecode: 10 }, row()]);
    const repository = dataSource.getRepository(PredictionEntity);
    expect((await repository.findOneByOrFail({ id: first.id })).prdtypecode).toBe(2583);
    expect(await repository.count()).toBe(4);
  });

  // npm test runs in America/New_York (see package.json) so that a time-zone slip shows up here.
  it('stores times in UTC whatever the time zone of the process', async () => {
    const written = row();
    await newWriter().insert([written]);
    const [{ text }] = await dataSource.query(
      `SELECT CAST(created_at AS TEXT) AS text FROM predictions WHERE id = '${written.id}'`,
    );
    expect(text).toMatch(/^2026-11-27 10:11:12\.345/);
    const read = await dataSource.getRepository(PredictionEntity).findOneByOrFail({ id: written.id });
    expect(read.createdAt.toISOString()).toBe('2026-11-27T10:11:12.345Z');
  });

  it('writes thousands of rows in one call', async () => {
    const rows = Array.from({ length: 3000 }, (_, i) => row({ designation: `produit ${i}` }));
    await newWriter().insert(rows);
    expect(await dataSource.getRepository(PredictionEntity).count()).toBe(3005);
  });

  it('keeps its rows out of a transaction of TypeORM open at the same time, which rolls back alone', async () => {
    const kept = row();
    const writer = newWriter();
    let writing: Promise<void> | undefined;
    await expect(
      runInTransaction(dataSource, async (manager) => {
        await manager.getRepository(PredictionEntity).insert(row({ modelVersion: 'rolled-back' }));
        writing = writer.insert([kept]);
        await new Promise((done) => setTimeout(done, 50));
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    await writing;
    const repository = dataSource.getRepository(PredictionEntity);
    expect(await repository.findOneByOrFail({ id: kept.id })).toEqual(kept);
    expect(await repository.countBy({ modelVersion: 'rolled-back' })).toBe(0);
  });

  it('writes again after it was closed', async () => {
    const writer = newWriter();
    await writer.insert([row()]);
    await writer.close();
    const again = row();
    await writer.insert([again]);
    expect(await dataSource.getRepository(PredictionEntity).findOneBy({ id: again.id })).not.toBeNull();
  });

  it('stores a row given without a decision (a caller that predates decisions) with null decision columns', async () => {
    const { decision: _decision, decisionThreshold: _threshold, ...older } = row();
    await newWriter().insert([older]);
    const stored = await dataSource.getRepository(PredictionEntity).findOneByOrFail({ id: older.id });
    expect(stored).toMatchObject({ decision: null, decisionThreshold: null });
  });
});
