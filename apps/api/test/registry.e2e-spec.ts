import { trainFixtureModel } from '@app/ml/testing';
import request from 'supertest';
import { createPostgresTestSchema, type PostgresTestSchema } from '@app/database/testing';
import { S3ArtifactStore } from '@app/storage';
import { startS3rver, type S3rverFixture } from '@app/storage/testing';
import { startTestApi, type TestApi } from './support/test-api';
import { databaseSettings, objectStoreSettings, TEST_REDIS_URL } from '@app/config/testing';

/**
 * Two API replicas over the production drivers (PostgreSQL, S3, Redis) and a third that only polls: promotions
 * and rollbacks made on any replica reach all of them, and requests keep succeeding while models swap.
 */
describe('model registry and hot swap across replicas (e2e, PostgreSQL + S3 + Redis)', () => {
  let schema: PostgresTestSchema;
  let s3: S3rverFixture;
  let a: TestApi;
  let b: TestApi;
  let polling: TestApi;
  let versions: string[];

  beforeAll(async () => {
    [schema, s3] = await Promise.all([createPostgresTestSchema(), startS3rver('models')]);
    const shared = { ...databaseSettings(schema), ...objectStoreSettings(s3) };
    const withRedis = { ...shared, REDIS_URL: TEST_REDIS_URL, MODEL_POLL_INTERVAL_MS: '600000' };
    a = await startTestApi(withRedis);
    b = await startTestApi(withRedis);
    polling = await startTestApi(shared);
    const modelDir = await trainFixtureModel();
    versions = [];
    for (let i = 0; i < 3; i++) {
      versions.push((await a.registry.register(modelDir, { createdBy: 'test', source: 'test' })).version);
    }
  });

  afterAll(async () => {
    await Promise.all([a, b, polling].map((api) => api?.app.close()));
    await Promise.all([schema?.drop(), s3?.stop()]);
  });

  it('lists every version, none in production yet, and refuses to roll back with nothing before', async () => {
    const res = await a.as('ml-engineer').get('/v1/models').expect(200);
    expect(res.body.production).toMatchObject({ version: null, revision: 0 });
    expect(res.body.versions.map((v: { version: string }) => v.version)).toEqual([...versions].reverse());
    // The status names every other route sends (Nest's), not the constant names of HttpStatus.
    const refused = await a.as('admin').post('/v1/models/rollback').send({}).expect(409);
    expect(refused.body).toEqual({
      statusCode: 409,
      error: 'Conflict',
      message: expect.stringMatching(/roll/i),
    });
    const unknown = await a.as('ml-engineer').get('/v1/models/v999').expect(404);
    expect(unknown.body).toEqual({ statusCode: 404, error: 'Not Found', message: expect.any(String) });
    await a.as('client').post('/v1/predictions').send({ designation: 'livre' }).expect(503);
    await request(a.http).get('/health/ready').expect(503);
  });

  it('promotes on one replica and every replica serves the new version, by Redis or by polling', async () => {
    const [v1] = versions;
    const res = await a
      .as('ml-engineer')
      .post(`/v1/models/${v1}/promote`)
      .send({ reason: 'first model' })
      .expect(200);
    expect(res.body.production).toMatchObject({ version: v1, revision: 1 });
    expect(res.body.audit).toMatchObject({
      action: 'promote',
      fromVersion: null,
      toVersion: v1,
      reason: 'first model',
    });
    // B polls only every 10 minutes here: it can only be this fast through Redis.
    await Promise.all([
      a.waitForVersion(v1, 5000),
      b.waitForVersion(v1, 5000),
      polling.waitForVersion(v1, 5000),
    ]);
    const answer = await b
      .as('client')
      .post('/v1/predictions')
      .send({ designation: 'roman poche' })
      .expect(200);
    expect(answer.body.modelVersion).toBe(v1);
    await request(b.http).get('/health/ready').expect(200);
  });

  it('shows one version with its files, checksums, metrics and production flag', async () => {
    const res = await b.as('ml-engineer').get(`/v1/models/${versions[0]}`).expect(200);
    expect(res.body).toMatchObject({
      version: versions[0],
      isProduction: true,
      artifactPrefix: `models/${versions[0]}/`,
    });
    expect(res.body.files.map((f: { path: string }) => f.path)).toContain('model.json');
    expect(res.body.files.every((f: { sha256: string }) => /^[0-9a-f]{64}$/.test(f.sha256))).toBe(true);
    expect(res.body.metrics).toEqual({ validation_weighted_f1: { fixture: 1 } });
    await b.as('ml-engineer').get('/v1/models/v999').expect(404);
  });

  it('refuses unknown versions (404) and the version already in production (409)', async () => {
    await a.as('ml-engineer').post('/v1/models/v999/promote').send({}).expect(404);
    await a.as('ml-engineer').post(`/v1/models/${versions[0]}/promote`).send({}).expect(409);
    await a.as('ml-engineer').post(`/v1/models/${versions[1]}/promote`).send({ reason: 7 }).expect(400);
  });

  it('swaps back and forth under load without failing a request', async () => {
    const [v1, v2] = versions;
    let running = true;
    const statuses: number[] = [];
    const served = new Set<string>();
    const client = async (api: TestApi) => {
      while (running) {
        const res = await api.as('client').post('/v1/predictions').send({ designation: 'pompe piscine' });
        statuses.push(res.status);
        if (res.status === 200) served.add(res.body.modelVersion);
      }
    };
    const load = [a, b, a, b, polling].map(client);
    for (let i = 0; i < 5; i++) {
      const via = i % 2 === 0 ? b : a;
      await via
        .as('ml-engineer')
        .post(`/v1/models/${v2}/promote`)
        .send({ reason: `swap ${i}` })
        .expect(200);
      await Promise.all([a.waitForVersion(v2), b.waitForVersion(v2)]);
      await via
        .as('admin')
        .post('/v1/models/rollback')
        .send({ reason: `back ${i}` })
        .expect(200);
      await Promise.all([a.waitForVersion(v1), b.waitForVersion(v1)]);
    }
    running = false;
    await Promise.all(load);
    expect(statuses.length).toBeGreaterThan(50);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect([...served].sort()).toEqual([v1, v2].sort());
    await polling.waitForVersion(v1);
  });

  it('rolls back along the production history and keeps an audit trail', async () => {
    const [v1, v2, v3] = versions;
    await a.as('ml-engineer').post(`/v1/models/${v2}/promote`).send({}).expect(200);
    await a.as('ml-engineer').post(`/v1/models/${v3}/promote`).send({}).expect(200);
    const back = await b.as('admin').post('/v1/models/rollback').send({ reason: 'v3 is worse' }).expect(200);
    expect(back.body.audit).toMatchObject({
      action: 'rollback',
      fromVersion: v3,
      toVersion: v2,
      reason: 'v3 is worse',
    });
    await Promise.all([a.waitForVersion(v2), b.waitForVersion(v2)]);
    const history = await a.as('ml-engineer').get('/v1/promotions?limit=3').expect(200);
    expect(
      history.body.map((h: { action: string; toVersion: string }) => `${h.action} ${h.toVersion}`),
    ).toEqual([`rollback ${v2}`, `promote ${v3}`, `promote ${v2}`]);
    await a.as('admin').post('/v1/models/rollback').send({}).expect(200);
    await Promise.all([a.waitForVersion(v1), b.waitForVersion(v1)]);
  });

  it('refuses to promote a version whose stored artifact is corrupt, and production stays as it was', async () => {
    // A version no replica has fetched yet: a replica's verified local copy would rightly be used instead.
    const modelDir = await trainFixtureModel();
    const { version: v4 } = await a.registry.register(modelDir, { createdBy: 'test', source: 'test' });
    const store = new S3ArtifactStore({ ...s3, region: 'us-east-1' });
    const shown = await a.as('ml-engineer').get(`/v1/models/${v4}`).expect(200);
    const victim = shown.body.files.find((f: { path: string }) => f.path !== 'model.json').path as string;
    await store.put(`models/${v4}/${victim}`, Buffer.from('not the model'));
    const before = (await a.as('ml-engineer').get('/v1/models').expect(200)).body.production;

    const res = await b.as('ml-engineer').post(`/v1/models/${v4}/promote`).send({}).expect(422);
    expect(res.body.message).toContain(victim);
    const after = (await a.as('ml-engineer').get('/v1/models').expect(200)).body.production;
    expect(after).toEqual(before);
    expect(b.serving.current?.version).toBe(before.version);
    const answer = await b.as('client').post('/v1/predictions').send({ designation: 'chaise' }).expect(200);
    expect(answer.body.modelVersion).toBe(before.version);
    store.onModuleDestroy();
  });
});
