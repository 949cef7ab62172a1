import { DataSource } from 'typeorm';
import request from 'supertest';
import { randomBytes } from 'node:crypto';
import { FIXTURE_CLASSES, fixtureJpeg, trainFixtureModel } from '@app/ml/testing';
import { PredictionEntity } from '@app/database';
import { AccessTokens } from '../src/auth/access-tokens.service';
import { startTestApi, type TestApi } from './support/test-api';

const BLUE = FIXTURE_CLASSES[2583].colour;

describe('predictions over HTTP, embedded SQLite and local artifacts (e2e)', () => {
  let api: TestApi;
  let version: string;
  let jpeg: Buffer;

  beforeAll(async () => {
    const modelDir = await trainFixtureModel();
    api = await startTestApi({
      PREDICTION_BATCH_LIMIT: '4',
      MAX_IMAGE_BYTES: '20000',
      MAX_BODY_BYTES: '60000',
    });
    const record = await api.registry.register(modelDir, { createdBy: 'test', source: 'test' });
    version = record.version;
    await api.registry.promote(version, { actor: 'test' });
    await api.waitForVersion(version);
    jpeg = await fixtureJpeg(BLUE);
  });

  afterAll(() => api?.app.close());

  it('classifies one product from JSON and answers with code, name, probabilities and the model version', async () => {
    const res = await api
      .as('client')
      .post('/v1/predictions')
      .send({ designation: 'pompe de filtration pour piscine', topK: 3 })
      .expect(200);
    expect(res.body).toMatchObject({ prdtypecode: 2583, modality: 'text', modelVersion: version });
    expect(res.body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.body.category).toEqual(expect.any(String));
    expect(res.body.top).toHaveLength(3);
    expect(res.body.top[0]).toEqual({
      prdtypecode: 2583,
      category: res.body.category,
      probability: res.body.probability,
    });
    const probabilities = res.body.top.map((t: { probability: number }) => t.probability);
    expect([...probabilities].sort((a, b) => b - a)).toEqual(probabilities);
    expect(res.body.latencyMs).toBeGreaterThan(0);
  });

  it('uses the photo when one is sent, as base64 in JSON or as a multipart file', async () => {
    const json = await api
      .as('client')
      .post('/v1/predictions')
      .send({ designation: 'pompe piscine', image: jpeg.toString('base64') })
      .expect(200);
    expect(json.body).toMatchObject({ modality: 'text+image', prdtypecode: 2583 });

    const dataUrl = await api
      .as('client')
      .post('/v1/predictions')
      .send({ image: `data:image/jpeg;base64,${jpeg.toString('base64')}` })
      .expect(200);
    expect(dataUrl.body).toMatchObject({ modality: 'image', prdtypecode: 2583 });

    const multipart = await api
      .as('client')
      .post('/v1/predictions')
      .field('designation', 'bache hivernage')
      .field('topK', '2')
      .attach('image', jpeg, 'photo.jpg')
      .expect(200);
    expect(multipart.body).toMatchObject({ modality: 'text+image', prdtypecode: 2583 });
    expect(multipart.body.top).toHaveLength(2);
  });

  it('classifies a batch in order, each item with its own id', async () => {
    const res = await api
      .as('client')
      .post('/v1/predictions/batch')
      .send({
        items: [
          { designation: 'roman poche' },
          { designation: 'chaise bois' },
          { image: jpeg.toString('base64') },
        ],
      })
      .expect(200);
    expect(res.body.modelVersion).toBe(version);
    expect(res.body.predictions.map((p: { prdtypecode: number }) => p.prdtypecode)).toEqual([10, 1560, 2583]);
    expect(new Set(res.body.predictions.map((p: { id: string }) => p.id)).size).toBe(3);
  });

  it('reads a prediction back at once (before it is written) and after it is stored', async () => {
    const { body } = await api.as('client').post('/v1/predictions').send({ designation: 'armoire en bois' });
    const early = await api.as('client').get(`/v1/predictions/${body.id}`).expect(200);
    expect(early.body).toMatchObject({
      id: body.id,
      prdtypecode: body.prdtypecode,
      designation: 'armoire en bois',
    });
    // The recorder writes in the background (a writer thread on SQLite): wait for the row, a few seconds at most.
    const repository = api.app.get(DataSource).getRepository(PredictionEntity);
    let stored = await repository.findOneBy({ id: body.id });
    for (let tries = 0; !stored && tries < 50; tries++) {
      await new Promise((done) => setTimeout(done, 100));
      stored = await repository.findOneBy({ id: body.id });
    }
    expect(stored).toMatchObject({
      modelVersion: version,
      prdtypecode: body.prdtypecode,
      requestedBy: 'test-client',
    });
    const late = await api.as('client').get(`/v1/predictions/${body.id}`).expect(200);
    expect(late.body.top).toEqual(body.top);
    await api.as('ml-engineer').get(`/v1/predictions/${body.id}`).expect(200);
    const stranger = api.app
      .get(AccessTokens)
      .issue({ id: 'stranger', username: 'another-client', roles: ['client'] });
    await request(api.http)
      .get(`/v1/predictions/${body.id}`)
      .set('Authorization', `Bearer ${stranger}`)
      .expect(404);
  });

  it.each([
    ['no title and no image', 400, { description: 'juste une description' }, /designation/],
    ['an empty title', 400, { designation: '   ' }, /designation/],
    ['a title that is not a string', 400, { designation: 42 }, /designation/],
    ['an unknown field', 400, { designation: 'livre', colour: 'red' }, /colour/],
    ['topK out of range', 400, { designation: 'livre', topK: 99 }, /topK/],
    ['an image that is not base64', 400, { designation: 'livre', image: '###' }, /base64/],
    [
      'an image that is not a picture',
      415,
      { designation: 'livre', image: Buffer.from('%PDF-1.4 hello').toString('base64') },
      /JPEG, PNG or WebP/,
    ],
    [
      'an image over MAX_IMAGE_BYTES',
      413,
      { image: randomBytes(30_000).toString('base64') },
      /MAX_IMAGE_BYTES/,
    ],
  ])('refuses %s with a clear %d', async (_case, status, body, message) => {
    const res = await api.as('client').post('/v1/predictions').send(body).expect(status);
    expect(JSON.stringify(res.body.message)).toMatch(message);
  });

  it('refuses a truncated JPEG with 422 and a broken JSON body with 400', async () => {
    const broken = Buffer.concat([jpeg.subarray(0, 20), Buffer.alloc(200)]);
    const res = await api
      .as('client')
      .post('/v1/predictions')
      .send({ designation: 'livre', image: broken.toString('base64') })
      .expect(422);
    expect(res.body.message).toMatch(/image/);
    await api
      .as('client')
      .post('/v1/predictions')
      .set('Content-Type', 'application/json')
      .send('{"designation": ')
      .expect(400);
  });

  it('refuses a multipart file over the image limit and a body over the body limit with 413', async () => {
    await api
      .as('client')
      .post('/v1/predictions')
      .field('designation', 'livre')
      .attach('image', randomBytes(30_000), 'big.jpg')
      .expect(413);
    await api
      .as('client')
      .post('/v1/predictions')
      .send({ designation: 'x'.repeat(70_000) })
      .expect(413);
  });

  it('refuses batches over PREDICTION_BATCH_LIMIT with 413 and names the bad item of a batch', async () => {
    const items = Array.from({ length: 5 }, () => ({ designation: 'livre' }));
    const tooMany = await api.as('client').post('/v1/predictions/batch').send({ items }).expect(413);
    expect(tooMany.body.message).toMatch(/at most 4 items/);
    const bad = await api
      .as('client')
      .post('/v1/predictions/batch')
      .send({ items: [{ designation: 'livre' }, { description: 'rien' }] })
      .expect(400);
    expect(bad.body.message).toMatch(/items\[1\]/);
    await api.as('client').post('/v1/predictions/batch').send({ items: [] }).expect(400);
  });

  it('answers 400 for an id that is not a UUID and 404 for an unknown one', async () => {
    await api.as('client').get('/v1/predictions/abc').expect(400);
    await api.as('client').get('/v1/predictions/0b8f3a34-6f7c-4d8e-9a4b-1c2d3e4f5a6b').expect(404);
  });

  it('lists the categories the model answers with their names', async () => {
    const res = await api.as('client').get('/v1/categories').expect(200);
    expect(res.body.map((c: { prdtypecode: number }) => c.prdtypecode).sort()).toEqual([10, 1560, 2583]);
    expect(res.body.every((c: { name: string }) => c.name.length > 0)).toBe(true);
  });

  it('is ready, exports metrics by route, model version and code, and serves the OpenAPI docs', async () => {
    const ready = await request(api.http).get('/health/ready').expect(200);
    expect(ready.body.checks).toMatchObject({
      database: { status: 'up' },
      model: { status: 'up', detail: version },
    });
    const metrics = await request(api.http).get('/metrics').expect(200);
    expect(metrics.text).toContain(`predictions_total{model_version="${version}",prdtypecode="2583"}`);
    expect(metrics.text).toMatch(
      /http_request_duration_seconds_count\{method="POST",route="\/v1\/predictions",status_code="200"\}/,
    );
    expect(metrics.text).toContain(`model_info{model_version="${version}"} 1`);
    const docs = await request(api.http).get('/docs-json').expect(200);
    expect(Object.keys(docs.body.paths)).toEqual(
      expect.arrayContaining(['/v1/predictions', '/v1/predictions/batch', '/v1/models/{version}/promote']),
    );
  });

  it('stores every answered prediction before it shuts down', async () => {
    const other = await startTestApi({ VAR_DIR: api.varDir });
    await other.waitForVersion(version);
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) {
      const res = await other
        .as('client')
        .post('/v1/predictions')
        .send({ designation: `roman ${i}` })
        .expect(200);
      ids.push(res.body.id);
    }
    await other.app.close();
    const stored = await api.app
      .get(DataSource)
      .getRepository(PredictionEntity)
      .count({ where: ids.map((id) => ({ id })) });
    expect(stored).toBe(30);
  });
});

describe('a photo sent to a model without an image part (e2e)', () => {
  let api: TestApi;

  beforeAll(async () => {
    const modelDir = await trainFixtureModel(0, { withImages: false });
    api = await startTestApi();
    const { version } = await api.registry.register(modelDir, { createdBy: 'test', source: 'test' });
    await api.registry.promote(version, { actor: 'test' });
    await api.waitForVersion(version);
  });

  afterAll(() => api?.app.close());

  it('is answered from the text, and the answer says the photo was not used', async () => {
    const jpeg = await fixtureJpeg(BLUE);
    const warning =
      'this model has no image part: the image was not used, the answer comes from the text alone';
    const multipart = await api
      .as('client')
      .post('/v1/predictions')
      .field('designation', 'pompe piscine')
      .attach('image', jpeg, 'photo.jpg')
      .expect(200);
    expect(multipart.body).toMatchObject({ modality: 'text', prdtypecode: 2583, warnings: [warning] });
    const batch = await api
      .as('client')
      .post('/v1/predictions/batch')
      .send({
        items: [{ designation: 'pompe piscine', image: jpeg.toString('base64') }, { designation: 'roman' }],
      })
      .expect(200);
    expect(batch.body.predictions.map((p: { warnings?: string[] }) => p.warnings)).toEqual([
      [warning],
      undefined,
    ]);
    const stored = await api.as('client').get(`/v1/predictions/${multipart.body.id}`).expect(200);
    expect(stored.body).toMatchObject({ modality: 'text', imageSha256: expect.any(String) });
  });

  it('refuses a photo alone with 422, naming what to send instead', async () => {
    const jpeg = await fixtureJpeg(BLUE);
    const res = await api
      .as('client')
      .post('/v1/predictions')
      .send({ image: jpeg.toString('base64') })
      .expect(422);
    expect(res.body.message).toMatch(/no image component; give a designation/);
  });
});
