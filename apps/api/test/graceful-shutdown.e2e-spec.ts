import { trainFixtureModel } from '@app/ml/testing';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AppConfig } from '@app/config';
import { openDataSource } from '@app/database';
import { ModelRegistry } from '@app/registry';
import { createArtifactStore } from '@app/storage';

const ROOT = resolve(__dirname, '../../..');

/**
 * The real process (`npm start`'s entry point) receives SIGTERM while requests are in flight: each of them is
 * answered, and every answered prediction is in the database after the process exits.
 */
describe('graceful shutdown of the API process (e2e)', () => {
  let env: Record<string, string>;
  let child: ChildProcess;
  let output = '';

  beforeAll(async () => {
    env = {
      ...(process.env as Record<string, string>),
      VAR_DIR: mkdtempSync(join(tmpdir(), 'api-shutdown-')),
      PORT: String(40_000 + Math.floor(Math.random() * 10_000)),
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
    child = spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', 'apps/api/src/main.ts'],
      { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout!.on('data', (chunk) => (output += chunk));
    child.stderr!.on('data', (chunk) => (output += chunk));
  });

  afterAll(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });

  it('answers the requests in flight at SIGTERM and stores every answered prediction', async () => {
    const base = `http://127.0.0.1:${env.PORT}`;
    const deadline = Date.now() + 60_000;
    while (
      !(await fetch(`${base}/health/ready`)
        .then((r) => r.ok)
        .catch(() => false))
    ) {
      if (Date.now() > deadline) throw new Error(`the API did not become ready:\n${output}`);
      await new Promise((done) => setTimeout(done, 200));
    }
    const token = await fetch(`${base}/v1/auth/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'password', username: 'admin', password: env.ADMIN_PASSWORD }),
    }).then(async (r) => ((await r.json()) as { access_token: string }).access_token);
    const predict = (i: number) =>
      fetch(`${base}/v1/predictions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ designation: `roman poche ${i}`, description: 'x'.repeat(2000) }),
      }).then(
        (r) => r.status,
        () => 0,
      );

    const inFlight = Array.from({ length: 60 }, (_, i) => predict(i));
    // Mid-load: the server is answering and more requests are queued behind the first answer.
    await Promise.race(inFlight);
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    child.kill('SIGTERM');
    const statuses = await Promise.all(inFlight);
    expect(await exited).toBe(0);

    // Every request sent before the server closed (here all of them, within the grace period) is answered.
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    const answered = statuses.length;
    const dataSource = await openDataSource(AppConfig.fromEnvironment(env));
    const [{ n }] = await dataSource.query('SELECT COUNT(*) AS n FROM predictions');
    await dataSource.destroy();
    expect(Number(n)).toBe(answered);
  });
});
