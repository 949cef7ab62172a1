import { DataSource } from 'typeorm';
import { timeOrderedUuid } from '@app/database';
import { openTestDatabase, TEST_DATABASES, type OpenTestDatabase } from '@app/database/testing';
import { FeedbackConflictError, FeedbackStore, type LabelTarget } from './feedback.store';

const ADMIN = { name: 'admin', mayOverwrite: true };
const CLIENT = { name: 'shop-1', mayOverwrite: false };

function target(): LabelTarget {
  return { id: timeOrderedUuid(), modelVersion: 'v3', prdtypecode: 10, createdAt: new Date() };
}

describe.each(TEST_DATABASES)('FeedbackStore on $name', (database) => {
  let dataSource: DataSource;
  let store: FeedbackStore;
  let db: OpenTestDatabase;

  beforeAll(async () => {
    db = await openTestDatabase(database);
    dataSource = db.dataSource;
    store = new FeedbackStore(dataSource);
  });
  afterAll(async () => {
    await db?.close();
  });

  it('keeps the first of many labels sent at once; the same label again is unchanged, another a conflict', async () => {
    const prediction = target();
    const outcomes = await Promise.allSettled(
      Array.from({ length: 40 }, (_, i) => store.label(prediction, i % 2 ? 40 : 50, CLIENT)),
    );
    const stored = (await store.find(prediction.id))!;
    const results = outcomes.map((o) =>
      o.status === 'fulfilled' ? o.value.result : (o.reason as Error).constructor.name,
    );
    expect(results.filter((r) => r === 'created')).toHaveLength(1);
    expect(results.filter((r) => r === 'unchanged')).toHaveLength(19);
    expect(results.filter((r) => r === FeedbackConflictError.name)).toHaveLength(20);
    expect([40, 50]).toContain(stored.truePrdtypecode);
    expect(await store.history(prediction.id)).toEqual([]);
  });

  it('audits overwrites sent at once as one chain, from the first label to the stored one', async () => {
    const prediction = target();
    await store.label(prediction, 10, CLIENT);
    const codes = Array.from({ length: 60 }, (_, i) => [40, 50, 60][i % 3]);
    const outcomes = await Promise.all(codes.map((code) => store.label(prediction, code, ADMIN)));

    const history = await store.history(prediction.id);
    expect(history).toHaveLength(outcomes.filter((o) => o.result === 'overwritten').length);
    const chain = [10, ...history.map((row) => row.newPrdtypecode)];
    expect(history.map((row) => row.previousPrdtypecode)).toEqual(chain.slice(0, -1));
    expect(history.map((row) => row.revision)).toEqual(history.map((_, i) => i + 1));
    expect((await store.find(prediction.id))!.truePrdtypecode).toBe(chain.at(-1));
  });
});
