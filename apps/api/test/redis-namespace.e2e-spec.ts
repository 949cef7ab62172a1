import { randomUUID } from 'node:crypto';
import { trainFixtureModel } from '@app/ml/testing';
import { ProductionWatcher } from '../src/serving/production.watcher';
import { TEST_REDIS_URL } from '@app/config/testing';
import { startTestApi, type TestApi } from './support/test-api';

const LIMIT = 5;

/**
 * Two deployments on one Redis, told apart only by QUEUE_PREFIX: deployment A with two replicas, deployment B with
 * one. Every replica shares one registry, and the followers (A2, B) poll it only every 10 minutes, so a follower
 * can swap within the test only if it hears a promotion on Redis: whatever B hears of A's promotions (and A of B's)
 * shows. The same users, on every replica, meet the same per-user rate limit.
 */
describe('two deployments sharing one Redis (e2e)', () => {
  let a1: TestApi;
  let a2: TestApi;
  let b: TestApi;
  let versions: string[];

  beforeAll(async () => {
    const deployment = (prefix: string) => ({
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: prefix,
      RATE_LIMIT_PER_MINUTE: String(LIMIT),
    });
    const [a, other] = [`test-a-${randomUUID()}`, `test-b-${randomUUID()}`];
    a1 = await startTestApi(deployment(a));
    const shared = { VAR_DIR: a1.varDir, MODEL_POLL_INTERVAL_MS: '600000' };
    a2 = await startTestApi({ ...deployment(a), ...shared });
    b = await startTestApi({ ...deployment(other), ...shared });
    const modelDir = await trainFixtureModel();
    versions = [];
    for (let i = 0; i < 2; i++) {
      versions.push((await a1.registry.register(modelDir, { createdBy: 'test', source: 'test' })).version);
    }
    // Subscribed before anything is announced.
    for (const api of [a1, a2, b]) {
      const watcher = api.app.get(ProductionWatcher);
      while (!watcher.redisReady) await new Promise((done) => setTimeout(done, 25));
    }
  });
  afterAll(async () => {
    await Promise.all([a1?.app.close(), a2?.app.close(), b?.app.close()]);
  });

  it('counts rate limits per deployment: shared by its replicas, apart from the other deployment', async () => {
    const categories = (api: TestApi) => api.as('client').get('/v1/categories');
    for (let i = 0; i < LIMIT; i++) await categories(i % 2 ? a2 : a1).expect(200);
    await categories(a2).expect(429);
    await categories(a1).expect(429);
    for (let i = 0; i < LIMIT; i++) await categories(b).expect(200);
    await categories(b).expect(429);
  });

  it('announces a promotion only to the replicas of its own deployment', async () => {
    await a1.as('admin').post(`/v1/models/${versions[0]}/promote`).send({}).expect(200);
    await a2.waitForVersion(versions[0], 10_000);
    // B heard the same channel at the same moment, if it heard it at all; give it as long as a load takes.
    await new Promise((done) => setTimeout(done, 2_000));
    expect(b.serving.current?.version).toBeUndefined();

    await b.as('admin').post(`/v1/models/${versions[1]}/promote`).send({}).expect(200);
    await b.waitForVersion(versions[1], 10_000);
    await a1.waitForVersion(versions[1], 10_000);
    await new Promise((done) => setTimeout(done, 2_000));
    expect(a2.serving.current?.version).toBe(versions[0]);
  });
});
