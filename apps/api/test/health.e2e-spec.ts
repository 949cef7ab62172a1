import request from 'supertest';
import { ShutdownCoordinator } from '../src/health/shutdown.coordinator';
import { startTestApi, type TestApi } from './support/test-api';

describe('API health (e2e)', () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await startTestApi();
  });

  afterAll(() => api?.app.close());

  it('GET /health/live answers 200 ok', async () => {
    await request(api.http).get('/health/live').expect(200, { status: 'ok' });
  });

  it('is not ready while no model is loaded, and says why', async () => {
    const res = await request(api.http).get('/health/ready').expect(503);
    expect(res.body).toEqual({
      status: 'unavailable',
      checks: { database: { status: 'up' }, model: { status: 'down', detail: 'no model loaded yet' } },
    });
  });

  it('exports whether each dependency answers; without REDIS_URL there is no Redis to report', async () => {
    const metrics = (await request(api.http).get('/metrics').expect(200)).text;
    expect(metrics).toMatch(/^dependency_up\{dependency="database"\} 1$/m);
    expect(metrics).not.toContain('dependency="redis"');
  });

  it('while draining for shutdown: not ready, and every response closes its connection', async () => {
    api.app.get(ShutdownCoordinator).draining = true;
    const res = await request(api.http).get('/health/ready').expect(503);
    expect(res.body.checks.process).toEqual({ status: 'down', detail: 'shutting down' });
    expect(res.headers.connection).toBe('close');
    api.app.get(ShutdownCoordinator).draining = false;
  });

  it('unknown routes are 404, not 500', async () => {
    await request(api.http).get('/nope').expect(404);
  });
});
