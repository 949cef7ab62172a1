import { trainFixtureModel } from '@app/ml/testing';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppConfig } from '@app/config';
import { openDataSource } from '@app/database';
import { ModelRegistry } from '@app/registry';
import { createArtifactStore } from '@app/storage';
import {
  freePort,
  KeepAliveClient,
  passwordToken,
  hasExited,
  killProcessGroup,
  startNodeEntry,
  waitUntilAnswering,
  type ServiceProcess,
} from '@app/config/testing';

/**
 * The real process (`npm start`'s entry point) receives SIGTERM while requests are in flight: each of them is
 * answered, and every answered prediction is in the database after the process exits.
 */
describe('graceful shutdown of the API process (e2e)', () => {
  let env: Record<string, string>;
  let api: ServiceProcess;

  beforeAll(async () => {
    env = {
      ...(process.env as Record<string, string>),
      VAR_DIR: mkdtempSync(join(tmpdir(), 'api-shutdown-')),
      PORT: String(await freePort()),
      BOOTSTRAP_MODEL: 'off',
      LOG_LEVEL: 'warn',
      JWT_SECRET: randomBytes(32).toString('hex'),
      ADMIN_USERNAME: 'admin',
      ADMIN_PASSWORD: 'shutdown-test-password',
      BCRYPT_COST: '4',
      SHUTDOWN_GRACE_MS: '500',
    };
    const config = AppConfig.fromEnvironment(env);
    const dataSource = await openDataSource(config);
    const registry = new ModelRegistry(dataSource, createArtifactStore(config));
    const { version } = await registry.register(await trainFixtureModel(), {
      createdBy: 'test',
      source: 'test',
    });
    await registry.promote(version, { actor: 'test' });
    await dataSource.destroy();
    api = startNodeEntry('api', 'apps/api/src/main.ts', { env });
  });

  afterAll(() => {
    if (api && !hasExited(api)) killProcessGroup(api);
  });

  it('answers the requests in flight at SIGTERM and stores every answered prediction', async () => {
    const base = `http://127.0.0.1:${env.PORT}`;
    await waitUntilAnswering(api, `${base}/health/ready`, 60_000);
    const token = await passwordToken(base, { username: 'admin', password: env.ADMIN_PASSWORD });
    const client = new KeepAliveClient(base, { authorization: `Bearer ${token}` }, 60);
    const predict = (i: number) =>
      client
        .post('/v1/predictions', { designation: `roman poche ${i}`, description: 'x'.repeat(2000) })
        .then((exchange) => ('status' in exchange ? exchange.status : 0));

    const inFlight = Array.from({ length: 60 }, (_, i) => predict(i));
    // Mid-load: the server is answering and more requests are queued behind the first answer. On a busy machine
    // this process may still be writing some of them: each must be on the wire before the signal.
    await Promise.race(inFlight);
    while (client.sent < inFlight.length) await new Promise((tick) => setTimeout(tick, 5));
    api.process.kill('SIGTERM');
    const statuses = await Promise.all(inFlight);
    client.close();
    await api.exited;
    expect(api.process.exitCode).toBe(0);

    // Every request sent before the server closed (here all of them, within the grace period) is answered.
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    const answered = statuses.length;
    const dataSource = await openDataSource(AppConfig.fromEnvironment(env));
    const [{ n }] = await dataSource.query('SELECT COUNT(*) AS n FROM predictions');
    await dataSource.destroy();
    expect(Number(n)).toBe(answered);
  });
});
