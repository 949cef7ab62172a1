import { randomUUID } from 'node:crypto';
import { trainFixtureModel } from '@app/ml/testing';
import { DataSource } from 'typeorm';
import { PredictionEntity } from '@app/database';
import { createPostgresTestSchema, type PostgresTestSchema } from '@app/database/testing';
import { TcpProxy } from './support/tcp-proxy';
import { startTestApi, type TestApi } from './support/test-api';

/**
 * The database goes away while clients keep predicting: answers keep coming (the model is in memory and
 * predictions are stored off the response path), readiness says the database is down, and once it is back every
 * answered prediction is stored.
 */
describe('a database outage (e2e, PostgreSQL behind a proxy)', () => {
  let schema: PostgresTestSchema;
  let proxy: TcpProxy;
  let api: TestApi;

  beforeAll(async () => {
    schema = await createPostgresTestSchema();
    proxy = await new TcpProxy('127.0.0.1', 5432).start();
    const url = new URL(schema.url);
    url.port = String(proxy.port);
    api = await startTestApi({ DATABASE_URL: url.toString(), DATABASE_SCHEMA: schema.schema });
    const { version } = await api.registry.register(await trainFixtureModel(), {
      createdBy: 'test',
      source: 'test',
    });
    await api.registry.promote(version, { actor: 'test' });
    await api.waitForVersion(version);
  });

  afterAll(async () => {
    await proxy?.restore();
    await api?.app.close();
    await proxy?.close();
    await schema?.drop();
  });

  it('keeps answering, reports the outage in readiness, and stores every prediction once it is back', async () => {
    const ids: string[] = [];
    const predict = async (designation: string) => {
      const res = await api.as('client').post('/v1/predictions').send({ designation }).expect(200);
      ids.push(res.body.id);
    };
    for (let i = 0; i < 5; i++) await predict(`roman ${i}`);

    await proxy.cut();
    for (let i = 0; i < 20; i++) await predict(`chaise ${i}`);
    const down = await api.as('admin').get('/health/ready').expect(503);
    expect(down.body).toMatchObject({ status: 'unavailable', checks: { database: { status: 'down' } } });
    const outage = await api.as('admin').get('/metrics').expect(200);
    expect(outage.text).toMatch(/^dependency_up\{dependency="database"\} 0$/m);
    const unavailable = await api.as('client').get('/v1/models').expect(503);
    expect(unavailable.headers['retry-after']).toBe('5');
    expect(unavailable.body.message).toMatch(/unavailable/);
    await new Promise((done) => setTimeout(done, 1000));
    for (let i = 0; i < 5; i++) await predict(`piscine ${i}`);

    await proxy.restore();
    const deadline = Date.now() + 30_000;
    let stored = 0;
    const repository = api.app.get(DataSource).getRepository(PredictionEntity);
    while (Date.now() < deadline) {
      stored = await repository.count().catch(() => 0);
      if (stored === ids.length) break;
      await new Promise((done) => setTimeout(done, 250));
    }
    expect(stored).toBe(30);
    expect(await repository.count({ where: ids.map((id) => ({ id })) })).toBe(30);
    await api.as('admin').get('/health/ready').expect(200);
    const metrics = await api.as('admin').get('/metrics').expect(200);
    expect(metrics.text).toMatch(/prediction_records_persist_failures_total [1-9]/);
    expect(metrics.text).toMatch(/^dependency_up\{dependency="database"\} 1$/m);
  });
});

/**
 * Redis goes away under a replica that follows promotions through it: predictions keep being answered, so the
 * replica stays ready and says it is degraded (readiness body and dependency_up), and once Redis is back the
 * replica hears the next promotion at once again.
 */
describe('a Redis outage (e2e, Redis behind a proxy)', () => {
  let proxy: TcpProxy;
  let follower: TestApi;
  let leader: TestApi;
  let versions: string[];

  beforeAll(async () => {
    proxy = await new TcpProxy('127.0.0.1', 6379).start();
    // The follower polls only every 10 minutes: it can follow a promotion quickly only through Redis.
    // One deployment of its own on the shared Redis.
    const QUEUE_PREFIX = `test-${randomUUID()}`;
    follower = await startTestApi({
      REDIS_URL: `redis://127.0.0.1:${proxy.port}`,
      QUEUE_PREFIX,
      MODEL_POLL_INTERVAL_MS: '600000',
    });
    leader = await startTestApi({
      VAR_DIR: follower.varDir,
      REDIS_URL: 'redis://127.0.0.1:6379',
      QUEUE_PREFIX,
    });
    const modelDir = await trainFixtureModel();
    versions = [];
    for (let i = 0; i < 2; i++) {
      versions.push(
        (await leader.registry.register(modelDir, { createdBy: 'test', source: 'test' })).version,
      );
    }
    await leader.as('admin').post(`/v1/models/${versions[0]}/promote`).send({}).expect(200);
    await follower.waitForVersion(versions[0], 5000);
  });

  afterAll(async () => {
    await proxy?.restore();
    await Promise.all([follower?.app.close(), leader?.app.close()]);
    await proxy?.close();
  });

  const redisUp = async (api: TestApi) =>
    /^dependency_up\{dependency="redis"\} (\d)$/m.exec(
      (await api.as('admin').get('/metrics').expect(200)).text,
    )?.[1];

  it('stays ready while Redis is down, says it is degraded, and follows promotions through Redis once it is back', async () => {
    const up = await follower.as('admin').get('/health/ready').expect(200);
    expect(up.body).toMatchObject({ status: 'ok', checks: { redis: { status: 'up' } } });
    expect(await redisUp(follower)).toBe('1');

    await proxy.cut();
    const degraded = await follower.as('admin').get('/health/ready').expect(200);
    expect(degraded.body).toMatchObject({
      status: 'degraded',
      checks: {
        database: { status: 'up' },
        model: { status: 'up', detail: versions[0] },
        redis: { status: 'degraded', detail: expect.stringContaining('predictions and labels are served') },
      },
    });
    expect(await redisUp(follower)).toBe('0');
    await follower.as('client').post('/v1/predictions').send({ designation: 'roman' }).expect(200);

    await proxy.restore();
    const deadline = Date.now() + 20_000;
    while ((await follower.as('admin').get('/health/ready').expect(200)).body.status !== 'ok') {
      if (Date.now() > deadline) throw new Error('the follower did not reconnect to Redis');
      await new Promise((done) => setTimeout(done, 200));
    }
    expect(await redisUp(follower)).toBe('1');
    await leader.as('admin').post(`/v1/models/${versions[1]}/promote`).send({}).expect(200);
    await follower.waitForVersion(versions[1], 5000);
  });
});
