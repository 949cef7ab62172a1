import request from 'supertest';
import { DataSource } from 'typeorm';
import { PredictionEntity } from '@app/database';
import { createPostgresTestSchema, type PostgresTestSchema } from '@app/database/testing';
import { FIXTURE_CLASSES, fixtureJpeg, trainFixtureModel } from '@app/ml/testing';
import { startTestApi, type TestApi } from './support/test-api';

const DATABASES: [string, () => Promise<PostgresTestSchema | undefined>][] = [
  ['SQLite', async () => undefined],
  ['PostgreSQL', createPostgresTestSchema],
];

interface Answer {
  id: string;
  probability: number;
  modality: 'text' | 'image' | 'text+image';
  decision: 'accept' | 'review';
  threshold: number;
  modelVersion: string;
}

/** What the service must have decided for an answer at a threshold. */
const expectedDecision = (answer: Answer) =>
  answer.threshold < 1 && answer.probability >= answer.threshold ? 'accept' : 'review';

describe.each(DATABASES)('calibrated answers and automatic acceptance (e2e, %s)', (_name, database) => {
  let api: TestApi;
  let schema: PostgresTestSchema | undefined;
  let version: string;
  let jpeg: Buffer;

  beforeAll(async () => {
    schema = await database();
    api = await startTestApi({
      AUTO_ACCEPT_PRECISION: '0.8',
      ...(schema && { DATABASE_URL: schema.url, DATABASE_SCHEMA: schema.schema }),
    });
    // The fixture's titles come in groups of five near-duplicates: half of them held out leaves enough text rows.
    const modelDir = await trainFixtureModel(0, { calibrationFraction: 0.5 });
    ({ version } = await api.registry.register(modelDir, { createdBy: 'test', source: 'test' }));
    await api.registry.promote(version, { actor: 'test' });
    await api.waitForVersion(version);
    jpeg = await fixtureJpeg(FIXTURE_CLASSES[2583].colour);
  });
  afterAll(async () => {
    await api?.app.close();
    await schema?.drop();
  });

  const card = async () => (await api.as('ml-engineer').get(`/v1/models/${version}`).expect(200)).body;
  const predict = (body: object) => api.as('client').post('/v1/predictions').send(body);
  const messages = (body: { message: string | string[] }) => [body.message].flat().join('; ');

  it("shows the version's calibration on its card: ECE before and after, reliability tables and the held-out curve", async () => {
    const { calibration } = await card();
    expect(calibration.targetPrecision).toBe(0.8);
    expect(calibration.heldOut).toMatchObject({ fraction: 0.5, seed: 0 });
    const text = calibration.modalities.text;
    expect(text).toMatchObject({
      temperature: expect.any(Number),
      n: expect.any(Number),
      eceBefore: expect.any(Number),
      eceAfter: expect.any(Number),
      threshold: expect.any(Number),
    });
    for (const table of [text.reliabilityBefore, text.reliabilityAfter]) {
      expect(table.length).toBeGreaterThan(0);
      expect(table.reduce((sum: number, bin: { count: number }) => sum + bin.count, 0)).toBe(text.n);
      expect(table[0]).toEqual({
        lower: expect.any(Number),
        upper: expect.any(Number),
        meanConfidence: expect.any(Number),
        accuracy: expect.any(Number),
        count: expect.any(Number),
      });
    }
    expect(text.curve).toHaveLength(100);
    expect(text.curve[0]).toMatchObject({ threshold: 0, coverage: 1, count: text.n });
    // The threshold is a point of the curve whose held-out precision reaches the target.
    const point = text.curve.find((p: { threshold: number }) => p.threshold === text.threshold);
    if (text.threshold < 1) expect(point.precision).toBeGreaterThanOrEqual(0.8);
  });

  it("answers with the decision, the version's threshold for the modality and the version", async () => {
    const { calibration } = await card();
    const { body } = await predict({ designation: 'pompe de filtration pour piscine' }).expect(200);
    expect(body).toMatchObject({
      modality: 'text',
      modelVersion: version,
      threshold: calibration.modalities.text.threshold,
    });
    expect(body.decision).toBe(expectedDecision(body));

    const batch = await api
      .as('client')
      .post('/v1/predictions/batch')
      .send({ items: [{ designation: 'roman poche' }, { image: jpeg.toString('base64') }] })
      .expect(200);
    const [text, image] = batch.body.predictions as Answer[];
    expect(text.threshold).toBe(calibration.modalities.text.threshold);
    // A modality without a held-out curve promises nothing: it is never accepted automatically.
    expect(image.threshold).toBe(calibration.modalities.image?.threshold ?? 1);
    for (const answer of [text, image]) expect(answer.decision).toBe(expectedDecision(answer));
  });

  it('takes the caller’s minConfidence instead, on JSON, batch and multipart requests, and stores the decision', async () => {
    const none = await predict({ designation: 'pompe piscine', minConfidence: 1 }).expect(200);
    expect(none.body).toMatchObject({ decision: 'review', threshold: 1 });
    const all = await predict({ designation: 'pompe piscine', minConfidence: 0 }).expect(200);
    expect(all.body).toMatchObject({ decision: 'accept', threshold: 0 });

    // An item mixing words of all three classes, so that its probability is not a rounded 1.
    const mixed = 'table piscine roman';
    const { probability } = (await predict({ designation: mixed, minConfidence: 0 }).expect(200)).body;
    expect(probability).toBeLessThan(1);
    const at = await predict({ designation: mixed, minConfidence: probability }).expect(200);
    expect(at.body).toMatchObject({ decision: 'accept', threshold: probability });
    const above = await predict({ designation: mixed, minConfidence: Math.min(1, probability + 1e-6) });
    expect(above.body.decision).toBe('review');

    const batch = await api
      .as('client')
      .post('/v1/predictions/batch')
      .send({ items: [{ designation: 'table bois' }, { designation: 'livre roman' }], minConfidence: 0 })
      .expect(200);
    expect(batch.body.predictions.map((p: Answer) => [p.decision, p.threshold])).toEqual([
      ['accept', 0],
      ['accept', 0],
    ]);

    const multipart = await api
      .as('client')
      .post('/v1/predictions')
      .field('designation', 'bache hivernage')
      .field('minConfidence', '1')
      .attach('image', jpeg, 'photo.jpg')
      .expect(200);
    expect(multipart.body).toMatchObject({ modality: 'text+image', decision: 'review', threshold: 1 });

    const stored = await api.as('client').get(`/v1/predictions/${none.body.id}`).expect(200);
    expect(stored.body).toMatchObject({ decision: 'review', threshold: 1 });
    const row = await waitForRow(api, all.body.id);
    expect(row).toMatchObject({ decision: 'accept', decisionThreshold: 0 });
  });

  it('refuses a minConfidence that is not a probability with a 400 naming it', async () => {
    for (const minConfidence of [1.5, -0.1, 'high']) {
      const res = await predict({ designation: 'pompe', minConfidence }).expect(400);
      expect(messages(res.body)).toMatch(/minConfidence must be a number from 0 to 1/);
    }
    const batch = await api
      .as('client')
      .post('/v1/predictions/batch')
      .send({ items: [{ designation: 'pompe' }], minConfidence: 2 })
      .expect(400);
    expect(messages(batch.body)).toMatch(/minConfidence must be a number from 0 to 1/);
    const multipart = await api
      .as('client')
      .post('/v1/predictions')
      .field('designation', 'pompe')
      .field('minConfidence', 'often')
      .expect(400);
    expect(messages(multipart.body)).toMatch(/minConfidence must be a number from 0 to 1/);
  });

  it('counts the decisions per version and exports the thresholds', async () => {
    await predict({ designation: 'chaise bois', minConfidence: 1 }).expect(200);
    const text = (await request(api.http).get('/metrics').expect(200)).text;
    const review = new RegExp(
      `prediction_decisions_total\\{model_version="${version}",decision="review",threshold_source="request"\\} (\\d+)`,
    ).exec(text);
    expect(Number(review?.[1])).toBeGreaterThanOrEqual(1);
    expect(text).toMatch(
      new RegExp(`model_accept_threshold\\{model_version="${version}",modality="text"\\} [0-9.]+`),
    );
  });

  it('serves a version trained without calibration at temperature 1, sending everything to review', async () => {
    const plainDir = await trainFixtureModel(1, { calibrationFraction: 0 });
    const plain = await api.registry.register(plainDir, { createdBy: 'test', source: 'test' });
    await api.registry.promote(plain.version, { actor: 'test' });
    await api.waitForVersion(plain.version);
    const { body } = await predict({ designation: 'pompe de filtration pour piscine' }).expect(200);
    expect(body).toMatchObject({ modelVersion: plain.version, decision: 'review', threshold: 1 });
    const shown = await api.as('ml-engineer').get(`/v1/models/${plain.version}`).expect(200);
    expect(shown.body.calibration).toBeNull();
  });
});

/** The stored row of a prediction, once the recorder has written it. */
async function waitForRow(api: TestApi, id: string): Promise<PredictionEntity> {
  const repository = api.app.get(DataSource).getRepository(PredictionEntity);
  for (let attempt = 0; attempt < 100; attempt++) {
    const row = await repository.findOneBy({ id });
    if (row) return row;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`prediction ${id} was not stored`);
}
