import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { openDataSource } from './data-source.options';
import { PredictionEntity } from './entities/prediction.entity';
import { PredictionWriter, type PredictionRow } from './prediction.writer';
import { TEST_DATABASES } from './testing/test-databases';

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
    ...overrides,
  };
}

describe.each(TEST_DATABASES)('PredictionWriter on $name', (database) => {
  let dataSource: DataSource;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    const created = await database.create();
    cleanup = created.cleanup;
    dataSource = await openDataSource(created.config);
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await cleanup?.();
  });

  it('writes rows that TypeORM reads back exactly as they were given', async () => {
    const rows = [
      row(),
      row({ description: 'Très <b>beau</b>\nmodèle', imageSha256: null, requestedBy: null }),
    ];
    await new PredictionWriter(dataSource).insert(rows);
    const repository = dataSource.getRepository(PredictionEntity);
    for (const expected of rows) {
      expect(await repository.findOneByOrFail({ id: expected.id })).toEqual(expected);
    }
  });

  it('ignores ids already stored, so a retried write neither fails nor duplicates', async () => {
    const first = row();
    const writer = new PredictionWriter(dataSource);
    await writer.insert([first]);
    await writer.insert([{ ...first, prdtypecode: 10 }, row()]);
    const repository = dataSource.getRepository(PredictionEntity);
    expect((await repository.findOneByOrFail({ id: first.id })).prdtypecode).toBe(2583);
    expect(await repository.count()).toBe(4);
  });

  it('writes thousands of rows in one call', async () => {
    const rows = Array.from({ length: 3000 }, (_, i) => row({ designation: `produit ${i}` }));
    await new PredictionWriter(dataSource).insert(rows);
    expect(await dataSource.getRepository(PredictionEntity).count()).toBe(3004);
  });
});
