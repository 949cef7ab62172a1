import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { FeedbackEntity, PredictionWriter, type PredictionRow } from '@app/database';
import { openTestDatabase, TEST_DATABASES, type OpenTestDatabase } from '@app/database/testing';
import { FeedbackExamples } from './feedback-examples.reader';

function prediction(designation: string, overrides: Partial<PredictionRow> = {}): PredictionRow {
  return {
    id: randomUUID(),
    createdAt: new Date('2026-11-27T10:00:00Z'),
    modelVersion: 'v3',
    prdtypecode: 10,
    probability: 0.7,
    top: [{ prdtypecode: 10, category: 'Livres', probability: 0.7 }],
    modality: 'text',
    designation,
    description: null,
    imageSha256: null,
    latencyMs: 1,
    requestedBy: 'client',
    ...overrides,
  };
}

function label(predictionId: string, truePrdtypecode: number, labelledAt: string): FeedbackEntity {
  return {
    predictionId,
    modelVersion: 'v3',
    predictedPrdtypecode: 10,
    truePrdtypecode,
    predictedAt: new Date('2026-11-27T10:00:00Z'),
    createdAt: new Date(labelledAt),
    labelledAt: new Date(labelledAt),
    reportedBy: 'reviewer',
  };
}

describe.each(TEST_DATABASES)('FeedbackExamples on $name', (database) => {
  let dataSource: DataSource;
  let db: OpenTestDatabase;

  beforeAll(async () => {
    db = await openTestDatabase(database);
    dataSource = db.dataSource;
  });
  afterAll(async () => {
    await db?.close();
  });

  it('is empty without labels', async () => {
    expect(await new FeedbackExamples(dataSource).load()).toEqual({ examples: [], missingPredictions: 0 });
  });

  it('joins each label with its prediction, oldest label first, and counts the labels without one', async () => {
    const pump = prediction('pompe piscine', {
      description: 'filtration 3 m³/h',
      imageSha256: 'a'.repeat(64),
      modality: 'text+image',
    });
    const chair = prediction('chaise bois');
    const photoOnly = prediction('', { imageSha256: 'b'.repeat(64), modality: 'image' });
    await new PredictionWriter(dataSource).insert([pump, chair, photoOnly]);
    // Two labels at the same instant come in prediction id order, whatever order they were written in.
    const [first, second] = [chair.id, photoOnly.id].sort();
    await dataSource
      .getRepository(FeedbackEntity)
      .insert([
        label(pump.id, 2583, '2026-11-28T09:00:00Z'),
        label(second, 1560, '2026-11-28T08:00:00Z'),
        label(first, 1560, '2026-11-28T08:00:00Z'),
        label(randomUUID(), 10, '2026-11-28T07:00:00Z'),
      ]);

    const { examples, missingPredictions } = await new FeedbackExamples(dataSource).load();
    expect(missingPredictions).toBe(1);
    expect(examples.map((e) => e.predictionId)).toEqual([first, second, pump.id]);
    expect(examples[2]).toEqual({
      predictionId: pump.id,
      prdtypecode: 2583,
      labelledAt: new Date('2026-11-28T09:00:00Z'),
      designation: 'pompe piscine',
      description: 'filtration 3 m³/h',
      imageSha256: 'a'.repeat(64),
    });
    expect(examples.find((e) => e.predictionId === photoOnly.id)).toMatchObject({
      designation: '',
      description: null,
      imageSha256: 'b'.repeat(64),
    });
  });

  it('finds the predictions of many labels (looked up in chunks)', async () => {
    const before = (await new FeedbackExamples(dataSource).load()).examples.length;
    const many = Array.from({ length: 1_100 }, (_, i) => prediction(`roman ${i}`));
    await new PredictionWriter(dataSource).insert(many);
    const labels = many.map((p, i) =>
      label(p.id, 10, new Date(Date.UTC(2026, 11, 1, 0, 0, i)).toISOString()),
    );
    // TypeORM reads inserted rows back with one condition per row, which SQLite caps at a depth of 1000.
    for (let i = 0; i < labels.length; i += 200)
      await dataSource.getRepository(FeedbackEntity).insert(labels.slice(i, i + 200));
    const { examples } = await new FeedbackExamples(dataSource).load();
    expect(examples).toHaveLength(before + many.length);
    expect(examples.slice(-3).map((e) => e.designation)).toEqual(['roman 1097', 'roman 1098', 'roman 1099']);
  });
});
