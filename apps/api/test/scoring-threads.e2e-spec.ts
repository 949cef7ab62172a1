import { rmSync } from 'node:fs';
import type { Worker } from 'node:worker_threads';
import request from 'supertest';
import { ProductClassifier } from '@app/ml';
import { FIXTURE_CLASSES, fixtureJpeg, fixtureTexts, trainFixtureModel } from '@app/ml/testing';
import { ModelServingService } from '../src/serving/model-serving.service';
import { startTestApi, type TestApi } from './support/test-api';

const items = fixtureTexts(40);

describe('text scored in worker threads (SCORING_THREADS=2, e2e)', () => {
  let api: TestApi;
  let modelDirs: string[];
  let versions: string[];

  beforeAll(async () => {
    modelDirs = [await trainFixtureModel(0), await trainFixtureModel(1)];
    api = await startTestApi({ SCORING_THREADS: '2', PREDICTION_BATCH_LIMIT: '64' });
    versions = [];
    for (const dir of modelDirs) {
      versions.push((await api.registry.register(dir, { createdBy: 'test', source: 'test' })).version);
    }
    await api.registry.promote(versions[0], { actor: 'test' });
    await api.waitForVersion(versions[0]);
  }, 120_000);

  afterAll(async () => {
    await api?.app.close();
    for (const dir of modelDirs ?? []) rmSync(dir, { recursive: true, force: true });
  });

  /** What the same model answers in the test's own thread, as the API answers it. */
  async function inProcess(dir: string, topK: number) {
    const classifier = await ProductClassifier.load(dir);
    try {
      return (await classifier.predict(items, topK)).map(({ prdtypecode, probability, top }) => ({
        prdtypecode,
        probability,
        top,
      }));
    } finally {
      classifier.dispose();
    }
  }

  const answered = (body: { predictions: { prdtypecode: number; probability: number; top: unknown }[] }) =>
    body.predictions.map(({ prdtypecode, probability, top }) => ({ prdtypecode, probability, top }));

  it('answers a batch and single requests exactly as the model does in process', async () => {
    const metrics = await api.as('admin').get('/metrics').expect(200);
    expect(metrics.text).toMatch(/^model_scoring_threads 2$/m);
    const batch = await api.as('client').post('/v1/predictions/batch').send({ items, topK: 3 }).expect(200);
    expect(batch.body.modelVersion).toBe(versions[0]);
    const expected = await inProcess(modelDirs[0], 3);
    expect(answered(batch.body)).toEqual(expected);

    const singles = await Promise.all(
      items.slice(0, 6).map((item) =>
        api
          .as('client')
          .post('/v1/predictions')
          .send({ ...item, topK: 3 })
          .expect(200),
      ),
    );
    singles.forEach((res, i) => expect(answered({ predictions: [res.body] })).toEqual([expected[i]]));
  });

  it('still uses the image model, which stays on the main thread', async () => {
    const jpeg = await fixtureJpeg(FIXTURE_CLASSES[2583].colour);
    const res = await api
      .as('client')
      .post('/v1/predictions')
      .send({ image: jpeg.toString('base64') })
      .expect(200);
    expect(res.body).toMatchObject({ modality: 'image', prdtypecode: 2583 });
  });

  it('swaps to a promoted version and back, its threads answering for it', async () => {
    await api.as('admin').post(`/v1/models/${versions[1]}/promote`).send({ reason: 'threads' }).expect(200);
    await api.waitForVersion(versions[1]);
    const promoted = await api
      .as('client')
      .post('/v1/predictions/batch')
      .send({ items, topK: 3 })
      .expect(200);
    expect(promoted.body.modelVersion).toBe(versions[1]);
    expect(answered(promoted.body)).toEqual(await inProcess(modelDirs[1], 3));

    await api.as('admin').post('/v1/models/rollback').send({ reason: 'threads' }).expect(200);
    await api.waitForVersion(versions[0]);
    const back = await api.as('client').post('/v1/predictions/batch').send({ items, topK: 3 }).expect(200);
    expect(answered(back.body)).toEqual(await inProcess(modelDirs[0], 3));
  }, 60_000);

  it('answers 503 while every scoring thread is down, reports it in readiness, and recovers', async () => {
    // What a crash would do: the serving model's threads stop under it.
    const { classifier } = api.app.get(ModelServingService).current!;
    const threads = (classifier as unknown as { parts: { text: { threads: { worker: Worker }[] } } }).parts
      .text.threads;
    await Promise.all(threads.map(({ worker }) => worker.terminate()));

    const refused = await api.as('client').post('/v1/predictions/batch').send({ items }).expect(503);
    expect(refused.headers['retry-after']).toBeDefined();
    expect(refused.body.message).toMatch(/Text scoring is unavailable/);
    const notReady = await request(api.http).get('/health/ready').expect(503);
    expect(notReady.body.checks.model).toMatchObject({
      status: 'down',
      detail: expect.stringMatching(/thread/),
    });

    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && (await request(api.http).get('/health/ready')).status !== 200) {
      await new Promise((done) => setTimeout(done, 200));
    }
    await api.as('client').post('/v1/predictions/batch').send({ items }).expect(200);
  }, 60_000);
});
