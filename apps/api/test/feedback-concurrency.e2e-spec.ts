import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { FeedbackEntity } from '@app/database';
import { createPostgresTestSchema } from '@app/database/testing';
import { FeedbackStore } from '@app/feedback';
import { PRODUCT_TYPE_CODES } from '@app/ml';
import { trainFixtureModel } from '@app/ml/testing';
import { startTestApi, type TestApi } from './support/test-api';

const OVERWRITES = 200;

/** A fresh database of each driver, as the API's environment. */
const DRIVERS: { name: string; create(): Promise<{ env: Record<string, string>; drop(): Promise<void> }> }[] =
  [
    {
      name: 'PostgreSQL',
      async create() {
        const schema = await createPostgresTestSchema();
        return { env: { DATABASE_URL: schema.url, DATABASE_SCHEMA: schema.schema }, drop: schema.drop };
      },
    },
    {
      name: 'SQLite',
      async create() {
        const dir = mkdtempSync(join(tmpdir(), 'feedback-concurrency-'));
        return {
          env: { VAR_DIR: join(dir, 'var') },
          drop: async () => rmSync(dir, { recursive: true, force: true }),
        };
      },
    },
  ];

/**
 * Many administrators correct one prediction's label at the same moment, over real concurrent HTTP requests: every
 * overwrite is audited as one link of a single chain, from the first label to the one stored, none lost.
 */
describe.each(DRIVERS)('concurrent label overwrites on $name (e2e)', (driver) => {
  let api: TestApi;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const database = await driver.create();
    drop = database.drop;
    api = await startTestApi(database.env);
    const { version } = await api.registry.register(await trainFixtureModel(), {
      createdBy: 'test',
      source: 'test',
    });
    await api.registry.promote(version, { actor: 'test' });
    await api.waitForVersion(version);
    // One listening server for every request, so that they really run side by side.
    await api.app.listen(0, '127.0.0.1');
  });
  afterAll(async () => {
    await api?.app.close();
    await drop?.();
  });

  it(`chains the audit of ${OVERWRITES} concurrent admin overwrites from the first label to the stored one`, async () => {
    const prediction = await api
      .as('client')
      .post('/v1/predictions')
      .send({ designation: 'pompe de filtration pour piscine' })
      .expect(200);
    const id: string = prediction.body.id;
    const first = PRODUCT_TYPE_CODES[0];
    await api.as('client').post(`/v1/predictions/${id}/feedback`).send({ prdtypecode: first }).expect(201);

    // Every code but the first in turn, so that neighbouring requests always ask for different labels.
    const codes = Array.from({ length: OVERWRITES }, (_, i) => PRODUCT_TYPE_CODES[1 + (i % 26)]);
    const answers = await Promise.all(
      codes.map((prdtypecode) =>
        api.as('admin').post(`/v1/predictions/${id}/feedback`).send({ prdtypecode }),
      ),
    );
    expect(answers.map((res) => res.status).filter((status) => status !== 200)).toEqual([]);
    const overwritten = answers.filter((res) => res.body.result === 'overwritten').length;

    const dataSource = api.app.get(DataSource);
    const stored = await dataSource.getRepository(FeedbackEntity).findOneByOrFail({ predictionId: id });
    const history = await new FeedbackStore(dataSource).history(id);
    expect(history).toHaveLength(overwritten);
    expect(history[0].previousPrdtypecode).toBe(first);
    for (let i = 1; i < history.length; i++) {
      expect([i, history[i].previousPrdtypecode]).toEqual([i, history[i - 1].newPrdtypecode]);
    }
    expect(history.at(-1)!.newPrdtypecode).toBe(stored.truePrdtypecode);
    expect(history.map((row) => row.revision)).toEqual(history.map((_, i) => i + 1));
  });
});
