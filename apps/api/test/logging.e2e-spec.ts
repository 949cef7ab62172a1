import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ADMIN_PASSWORD_LABEL } from '../src/auth/auth-bootstrap.service';
import { freePort } from '@app/config/testing';

const ROOT = resolve(__dirname, '../../..');
/** The escape that starts every colour code. */
const ANSI = String.fromCharCode(27);
/** Nest's contexts for its start-up lines, a line per module and per route: debug level only. */
const START_UP_DETAIL =
  /\[(RoutesResolver|RouterExplorer|InstanceLoader)\]|"context":"(RoutesResolver|RouterExplorer|InstanceLoader)"/;

interface Run {
  child: ChildProcess;
  base: string;
  stdout: () => string;
  stderr: () => string;
}

/** The real API process (`npm start`'s entry point) with its output piped, as a service manager or a file sees it. */
async function startApi(settings: Record<string, string>): Promise<Run> {
  const port = await freePort();
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    VAR_DIR: mkdtempSync(join(tmpdir(), 'api-logs-')),
    PORT: String(port),
    JWT_SECRET: randomBytes(32).toString('hex'),
    BCRYPT_COST: '4',
    ...settings,
  };
  // What the environment of the test run says must not decide the format under test.
  for (const key of [
    'LOG_LEVEL',
    'LOG_FORMAT',
    'NO_COLOR',
    'FORCE_COLOR',
    'ADMIN_USERNAME',
    'ADMIN_PASSWORD',
  ])
    if (!(key in settings)) delete env[key];
  const child = spawn(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', 'apps/api/src/main.ts'],
    { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  return { child, base: `http://127.0.0.1:${port}`, stdout: () => stdout, stderr: () => stderr };
}

async function waitFor<T>(
  what: string,
  run: Run,
  check: () => Promise<T | undefined> | T | undefined,
): Promise<T> {
  const deadline = Date.now() + 240_000;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline || run.child.exitCode !== null || run.child.signalCode !== null)
      throw new Error(`${what}; output:\n${run.stdout()}\n${run.stderr()}`);
    await new Promise((done) => setTimeout(done, 200));
  }
}

const answers = (url: string) =>
  fetch(url)
    .then((r) => (r.ok ? true : undefined))
    .catch(() => undefined);

describe('the process log (e2e)', () => {
  const runs: Run[] = [];

  afterEach(() => {
    for (const { child } of runs.splice(0))
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  it('in text, without a terminal: no colour codes, no route mapping, the new admin password on its own line', async () => {
    const run = await startApi({ BOOTSTRAP_MODEL: 'off' });
    runs.push(run);
    await waitFor('the API did not start', run, () => answers(`${run.base}/health/live`));
    const passwordLine = await waitFor('no admin password line', run, () =>
      run
        .stdout()
        .split('\n')
        .find((line) => line.includes(ADMIN_PASSWORD_LABEL)),
    );
    const log = run.stdout() + run.stderr();
    expect(log).not.toContain(ANSI);
    expect(log).not.toMatch(START_UP_DETAIL);
    expect(log).toMatch(/LOG \[Bootstrap\] API listening on port/);
    // The line holds the label and the password, nothing else of note: copied as it is, it logs in.
    const password = passwordLine.split(ADMIN_PASSWORD_LABEL)[1].trim();
    expect(password).toMatch(/^\S{12,}$/);
    expect(log.split(password)).toHaveLength(2);
    const login = await fetch(`${run.base}/v1/auth/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'password', username: 'admin', password }),
    });
    expect(login.status).toBe(200);
  });

  // The first model is trained at boot, which takes minutes on a loaded machine.
  it('in JSON: one object per line, carrying the request id, the job id and the model version', async () => {
    // Debug level: each answered request is logged, so that a request's line can be found.
    const run = await startApi({
      LOG_FORMAT: 'json',
      LOG_LEVEL: 'debug',
      ADMIN_USERNAME: 'admin',
      ADMIN_PASSWORD: 'logging-test-password',
      DATA_DIR: '',
      // This suite is about the log, not the gate: the demo model serves whatever its score.
      GATE_FLOOR: '0',
    });
    runs.push(run);
    // The first model is trained on the demo catalogue by a retraining job at boot.
    await waitFor('no model was loaded', run, () => answers(`${run.base}/health/ready`));
    const token = await fetch(`${run.base}/v1/auth/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'password',
        username: 'admin',
        password: 'logging-test-password',
      }),
    }).then(async (r) => ((await r.json()) as { access_token: string }).access_token);
    const requestId = `logging-test-${randomBytes(4).toString('hex')}`;
    const prediction = await fetch(`${run.base}/v1/predictions`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        'x-request-id': requestId,
      },
      body: JSON.stringify({ designation: 'Piscine tubulaire ronde 3 m avec pompe de filtration' }),
    });
    expect(prediction.status).toBe(200);
    expect(prediction.headers.get('x-request-id')).toBe(requestId);
    const { modelVersion } = (await prediction.json()) as { modelVersion: string };
    const entries = () =>
      (run.stdout() + run.stderr())
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => {
          try {
            return JSON.parse(line) as Record<string, unknown>;
          } catch {
            throw new Error(`not a JSON line: ${line}`);
          }
        });
    const requestLine = await waitFor('no line for the request', run, () =>
      entries().find((entry) => entry.requestId === requestId),
    );
    expect(requestLine).toMatchObject({
      level: 'debug',
      context: 'HTTP',
      message: expect.stringMatching(/^POST \/v1\/predictions 200 [\d.]+ ms$/),
      modelVersion,
      timestamp: expect.any(Number),
    });
    const all = entries();
    expect(all.join('')).not.toContain(ANSI);
    // The training child's progress reaches the log: each model and epoch, under the job's id.
    const epochs = all.filter((entry) =>
      /model \d+\/\d+, text-neural-0 epoch \d+/.test(String(entry.message)),
    );
    expect(epochs.length).toBeGreaterThan(0);
    expect(epochs[0]).toMatchObject({ level: 'log', context: 'Retraining', jobId: expect.any(String) });
    // Loading the model names its version.
    expect(all).toContainEqual(
      expect.objectContaining({
        context: 'ModelServingService',
        modelVersion,
        message: expect.stringContaining('serving'),
      }),
    );
  }, 300_000);
});
