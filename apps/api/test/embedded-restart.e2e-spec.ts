import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '@app/config/testing';

const ROOT = resolve(__dirname, '../../..');
const WEBHOOK_TOKEN = 'alertmanager-token-for-restart-tests-0123';
const ADMIN = { username: 'admin', password: 'restart-test-admin-password' };

interface ApiProcess {
  child: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

interface Job {
  id: string;
  state: string;
  phase: string;
  attempts: number;
  error: string | null;
  [key: string]: unknown;
}

/**
 * The API as `npm start` runs it (ts-node, embedded defaults: SQLite, local artifacts, the in-process queue, no
 * DATA_DIR), on a VAR_DIR that outlives each process, ready once it serves a model.
 */
async function startApi(varDir: string, env: Record<string, string> = {}): Promise<ApiProcess> {
  const port = await freePort();
  let output = '';
  const child = spawn(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', 'apps/api/src/main.ts'],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        PORT: String(port),
        VAR_DIR: varDir,
        DATABASE_URL: '',
        REDIS_URL: '',
        S3_BUCKET: '',
        DATA_DIR: '',
        BOOTSTRAP_MODEL: 'auto',
        JWT_SECRET: 'restart-test-secret-0123456789abcdef0123456789',
        ADMIN_USERNAME: ADMIN.username,
        ADMIN_PASSWORD: ADMIN.password,
        BCRYPT_COST: '4',
        ALERTMANAGER_WEBHOOK_TOKEN: WEBHOOK_TOKEN,
        SHUTDOWN_GRACE_MS: '200',
        LOG_LEVEL: 'log',
        RATE_LIMIT_PER_MINUTE: '0',
        IP_RATE_LIMIT_PER_MINUTE: '0',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.once('exit', (code, signal) => done({ code, signal })),
  );
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 240_000;
  for (;;) {
    // Its own log line too: on a shared machine another process may take the port between freePort and listen.
    const ready =
      output.includes(`listening on port ${port}`) &&
      (await fetch(`${url}/health/ready`).then(
        (res) => res.status === 200,
        () => false,
      ));
    if (ready) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the API did not become ready:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return { child, url, output: () => output, exited };
}

async function call<T = Job>(
  api: ApiProcess,
  method: string,
  path: string,
  token: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${api.url}${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as T };
}

async function login(api: ApiProcess): Promise<string> {
  const res = await fetch(`${api.url}/v1/auth/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', ...ADMIN }),
  });
  return ((await res.json()) as { access_token: string }).access_token;
}

function notification(fingerprint: string) {
  return {
    version: '4',
    groupKey: '{}:{alertname="ModelF1BelowThreshold"}',
    truncatedAlerts: 0,
    status: 'firing',
    receiver: 'retraining',
    groupLabels: { alertname: 'ModelF1BelowThreshold' },
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://alertmanager:9093',
    alerts: [
      {
        status: 'firing',
        labels: { alertname: 'ModelF1BelowThreshold', severity: 'warning' },
        annotations: { summary: 'live F1 low' },
        startsAt: '2026-12-06T10:00:00.000Z',
        endsAt: '0001-01-01T00:00:00Z',
        generatorURL: 'http://prometheus:9090/graph',
        fingerprint,
      },
    ],
  };
}

// Three boots and four trainings of the demo catalogue on a shared, loaded machine.
jest.setTimeout(900_000);

describe('embedded mode across restarts (e2e: the real process, as npm start runs it)', () => {
  let varDir: string;
  const started: ApiProcess[] = [];

  beforeAll(() => {
    varDir = mkdtempSync(join(tmpdir(), 'embedded-restart-'));
  });
  afterAll(() => {
    for (const api of started) if (api.child.exitCode === null) api.child.kill('SIGKILL');
    rmSync(varDir, { recursive: true, force: true });
  });

  const start = async (env: Record<string, string> = {}) => {
    const api = await startApi(varDir, env);
    started.push(api);
    return api;
  };

  async function waitForJob(api: ApiProcess, token: string, id: string, done: (job: Job) => boolean) {
    const deadline = Date.now() + 300_000;
    for (;;) {
      const { body } = await call(api, 'GET', `/v1/retraining-jobs/${id}`, token);
      if (done(body as Job)) return body as Job;
      if (Date.now() > deadline) {
        throw new Error(`job ${id} is ${body.state}/${body.phase}:\n${api.output().slice(-4000)}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('runs a job stopped by SIGTERM or SIGKILL again after the restart, and later alerts start jobs of their own', async () => {
    // A fresh install: the first model trains on the demo catalogue; the default 60-minute cooldown applies.
    const first = await start();
    let token = await login(first);

    // The README's retraining example, on a fresh install: accepted, since a first model starts no cooldown.
    const asked = await call(first, 'POST', '/v1/retraining-jobs', token, {
      reason: 'new listings for Q3',
      params: { seed: 1 },
    });
    expect(asked.status).toBe(202);
    expect(asked.body).toMatchObject({ state: 'queued', cooledDown: false });
    const stopped = asked.body.id as string;
    await waitForJob(first, token, stopped, (job) => job.phase === 'training');
    first.child.kill('SIGTERM');
    expect(await first.exited).toEqual({ code: 0, signal: null });

    // The restart runs it again (with no DATA_DIR, on the demo catalogue): it does not stay queued.
    const second = await start({ RETRAINING_COOLDOWN_MINUTES: '0' });
    token = await login(second);
    const rerun = await waitForJob(second, token, stopped, (job) => job.state !== 'queued');
    expect(rerun.state).toMatch(/^(running|succeeded)$/);
    const finished = await waitForJob(second, token, stopped, (job) => job.state === 'succeeded');
    expect(finished).toMatchObject({ attempts: 2, resultVersion: expect.any(String) });
    expect(second.output()).toContain(`jobs interrupted by the last stop, run again: ${stopped}`);

    // A new alert starts a job of its own: it joins nothing.
    const alerted = await fetch(`${second.url}/v1/webhooks/alertmanager`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${WEBHOOK_TOKEN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(notification('4e57a470001')),
    });
    const [handled] = ((await alerted.json()) as { alerts: { result: string; jobId: string }[] }).alerts;
    expect(handled).toMatchObject({ result: 'enqueued', jobId: expect.any(String) });
    expect(handled.jobId).not.toBe(stopped);

    // Killed outright while that job trains: the next start runs it again and removes the dead run's folder.
    await waitForJob(second, token, handled.jobId, (job) => job.phase === 'training');
    expect(readdirSync(varDir).filter((name) => name.startsWith('training-'))).toHaveLength(1);
    second.child.kill('SIGKILL');
    await second.exited;
    const third = await start({ RETRAINING_COOLDOWN_MINUTES: '0' });
    token = await login(third);
    const killed = await waitForJob(third, token, handled.jobId, (job) => job.state === 'succeeded');
    expect(killed.attempts).toBe(2);
    expect(readdirSync(varDir).filter((name) => name.startsWith('training-'))).toEqual([]);

    // The history holds no orphan: nothing is left queued or running.
    const { body: jobs } = await call<Job[]>(third, 'GET', '/v1/retraining-jobs', token);
    expect(jobs.filter((job) => job.state === 'queued' || job.state === 'running')).toEqual([]);
    const metrics = await (await fetch(`${third.url}/metrics`)).text();
    expect(metrics).toMatch(/^retraining_queue_jobs\{state="waiting"\} 0$/m);

    third.child.kill('SIGTERM');
    expect(await third.exited).toEqual({ code: 0, signal: null });
  });
});
