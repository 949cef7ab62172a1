import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import request from 'supertest';
import { createPostgresTestSchema, type PostgresTestSchema } from '@app/database/testing';
import { monitoringMetricNames } from '../../../docker/test/promql-metric-names';
import { startTestApi, type TestApi } from './support/test-api';
import { databaseSettings, freePort, redisSettings } from '@app/config/testing';

const ROOT = resolve(__dirname, '../../..');

/** The metric families a /metrics page declares. */
function declaredMetrics(page: string): Set<string> {
  return new Set([...page.matchAll(/^# TYPE (\S+) /gm)].map((match) => match[1]));
}

/** The worker as a real process, as compose runs it; resolves with its /metrics page once it is ready. */
async function workerMetrics(env: Record<string, string>): Promise<{ child: ChildProcess; page: string }> {
  const port = await freePort();
  let output = '';
  const child = spawn(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', 'apps/worker/src/main.ts'],
    {
      cwd: ROOT,
      env: { ...process.env, ...env, WORKER_PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const deadline = Date.now() + 40_000;
  for (;;) {
    const ready = await fetch(`http://127.0.0.1:${port}/health/ready`).then(
      (res) => res.status === 200,
      () => false,
    );
    if (ready) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the worker did not become ready:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const page = await fetch(`http://127.0.0.1:${port}/metrics`).then((res) => res.text());
  return { child, page };
}

jest.setTimeout(90_000);

describe('metrics used by the alert rules and dashboards (e2e: the API in process, the worker as a process)', () => {
  let root: string;
  let schema: PostgresTestSchema;
  let api: TestApi;
  let worker: ChildProcess | undefined;
  let exported: Set<string>;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'monitoring-metrics-'));
    schema = await createPostgresTestSchema();
    const env = {
      ...databaseSettings(schema),
      ...redisSettings(),
      LOG_LEVEL: 'warn',
    };
    const [started, fromWorker] = await Promise.all([
      startTestApi({ ...env, VAR_DIR: join(root, 'api-var') }),
      workerMetrics({ ...env, VAR_DIR: join(root, 'worker-var') }),
    ]);
    api = started;
    worker = fromWorker.child;
    const fromApi = await request(api.http).get('/metrics').expect(200);
    exported = new Set([...declaredMetrics(fromApi.text), ...declaredMetrics(fromWorker.page)]);
  });

  afterAll(async () => {
    worker?.kill('SIGKILL');
    await api?.app.close();
    await schema?.drop();
    rmSync(root, { recursive: true, force: true });
  });

  it('finds the metrics the rules and dashboards read', () => {
    const used = monitoringMetricNames(join(ROOT, 'docker'));
    expect(used).toEqual(
      expect.arrayContaining([
        'model_live_weighted_f1',
        'retraining_job_runs_total',
        'nodejs_eventloop_lag_p99_seconds',
        'prediction_requests_in_flight',
        'prediction_requests_shed_total',
      ]),
    );
    expect(used.filter((name) => !exported.has(name))).toEqual([]);
  });
});
