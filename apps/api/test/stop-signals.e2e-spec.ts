import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, realpathSync, symlinkSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, redisSettings } from '@app/config/testing';

const ROOT = resolve(__dirname, '../../..');
/** Boot, drain (SHUTDOWN_GRACE_MS below) and exit each fit well inside this on a loaded machine. */
const DEADLINE_MS = 60_000;

async function portAnswers(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      done(true);
    });
    socket.once('error', () => done(false));
  });
}

/** Whether any process is left in the process group `pgid` (the spawned command and everything under it). */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

async function waitUntil(what: string, ready: () => boolean | Promise<boolean>, log: () => string) {
  const deadline = Date.now() + DEADLINE_MS;
  while (!(await ready())) {
    if (Date.now() > deadline) throw new Error(`${what} within ${DEADLINE_MS} ms; output:\n${log()}`);
    await new Promise((done) => setTimeout(done, 100));
  }
}

interface Started {
  child: ChildProcess;
  port: number;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output: () => string;
}

/**
 * Every documented way of starting the service, stopped the way a terminal (Ctrl-C), a supervisor (SIGTERM) or
 * a crash of npm (SIGKILL) stops it: afterwards nothing of it is left running and its port is free.
 */
describe('stopping the service however it was started (e2e)', () => {
  let image: string;
  const started: Started[] = [];

  beforeAll(() => {
    // The layout of the Docker image: package.json, node_modules and the output of `npm run build`.
    image = mkdtempSync(join(tmpdir(), 'api-image-'));
    copyFileSync(join(ROOT, 'package.json'), join(image, 'package.json'));
    symlinkSync(realpathSync(join(ROOT, 'node_modules')), join(image, 'node_modules'));
    const out = join(image, 'dist');
    const bin = (name: string) => join(ROOT, 'node_modules/.bin', name);
    execFileSync(bin('tsc'), ['-p', 'tsconfig.build.json', '--outDir', out], { cwd: ROOT, stdio: 'pipe' });
    execFileSync(bin('tsc-alias'), ['-p', 'tsconfig.build.json', '--outDir', out], {
      cwd: ROOT,
      stdio: 'pipe',
    });
  }, 180_000);

  afterEach(() => {
    for (const { child } of started.splice(0)) {
      if (groupAlive(child.pid!)) process.kill(-child.pid!, 'SIGKILL');
    }
  });

  /** `command` in its own process group, serving on `port` once /health/live answers. */
  async function start(command: string[], cwd: string, kind: 'api' | 'worker'): Promise<Started> {
    const port = await freePort();
    const env: Record<string, string> = {
      ...(process.env as Record<string, string>),
      VAR_DIR: mkdtempSync(join(tmpdir(), 'api-stop-')),
      [kind === 'api' ? 'PORT' : 'WORKER_PORT']: String(port),
      BOOTSTRAP_MODEL: 'off',
      JWT_SECRET: randomBytes(32).toString('hex'),
      ADMIN_USERNAME: 'admin',
      ADMIN_PASSWORD: 'stop-signals-test-password',
      BCRYPT_COST: '4',
      SHUTDOWN_GRACE_MS: '300',
      // The worker takes jobs from Redis; a queue of this run's own, so that it takes no one else's.
      ...(kind === 'worker' && redisSettings()),
    };
    const child = spawn(command[0], command.slice(1), {
      cwd,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (chunk) => (output += chunk));
    child.stderr!.on('data', (chunk) => (output += chunk));
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
      child.once('exit', (code, signal) => done({ code, signal })),
    );
    const run: Started = { child, port, exit, output: () => output };
    started.push(run);
    await waitUntil(
      `${command.join(' ')} did not answer /health/live`,
      () =>
        fetch(`http://127.0.0.1:${port}/health/live`)
          .then((r) => r.ok)
          .catch(() => false),
      run.output,
    );
    return run;
  }

  /** Nothing of `run` is left: no process in its group, nothing on its port. */
  async function expectGone(run: Started): Promise<void> {
    const pgid = run.child.pid!;
    await waitUntil(`processes of group ${pgid} still running`, () => !groupAlive(pgid), run.output);
    expect(await portAnswers(run.port)).toBe(false);
  }

  it('npm start: SIGTERM to npm drains the API, npm exits 0 and the port is free', async () => {
    const run = await start(['npm', 'start'], ROOT, 'api');
    process.kill(run.child.pid!, 'SIGTERM');
    expect(await run.exit).toEqual({ code: 0, signal: null });
    await expectGone(run);
    expect(run.output()).toContain('SIGTERM received: draining, then stopping');
  });

  it('npm start: Ctrl-C (SIGINT to npm and node, which npm forwards again) still drains and exits 0', async () => {
    const run = await start(['npm', 'start'], ROOT, 'api');
    process.kill(-run.child.pid!, 'SIGINT');
    expect(await run.exit).toEqual({ code: 0, signal: null });
    await expectGone(run);
  });

  it('npm start: when npm is killed outright (SIGKILL), the API notices and stops too', async () => {
    const run = await start(['npm', 'start'], ROOT, 'api');
    process.kill(run.child.pid!, 'SIGKILL');
    await expectGone(run);
    expect(run.output()).toContain('exited: draining, then stopping');
  });

  it('npm run start:api (built): SIGTERM to npm stops the API with exit code 0', async () => {
    const run = await start(['npm', 'run', 'start:api'], image, 'api');
    process.kill(run.child.pid!, 'SIGTERM');
    expect(await run.exit).toEqual({ code: 0, signal: null });
    await expectGone(run);
  });

  it('the image command (node dist/apps/api/src/main.js): SIGTERM to node exits 0', async () => {
    // The CMD of the api target: the stage from `FROM … AS api` to the next FROM.
    const apiStage = readFileSync(join(ROOT, 'docker/Dockerfile'), 'utf8')
      .split(/^(?=FROM )/m)
      .find((stage) => / AS api\s*$/m.test(stage.split('\n')[0]))!;
    const cmd = /^CMD (.+)$/m.exec(apiStage)![1];
    // Exec form, so that node itself receives the container's stop signal (a shell form would run under sh).
    const command = JSON.parse(cmd) as string[];
    expect(command[0]).toBe('node');
    const run = await start([process.execPath, ...command.slice(1)], image, 'api');
    process.kill(run.child.pid!, 'SIGTERM');
    expect(await run.exit).toEqual({ code: 0, signal: null });
    await expectGone(run);
  });

  it.each(['SIGTERM', 'SIGINT'] as const)(
    'npm run start:worker (built): %s to npm stops the worker with exit code 0',
    async (signal) => {
      const run = await start(['npm', 'run', 'start:worker'], image, 'worker');
      process.kill(run.child.pid!, signal);
      expect(await run.exit).toEqual({ code: 0, signal: null });
      await expectGone(run);
    },
  );

  it('the worker run as node directly (as in the image): SIGTERM exits 0', async () => {
    const run = await start([process.execPath, 'dist/apps/worker/src/main.js'], image, 'worker');
    process.kill(run.child.pid!, 'SIGTERM');
    expect(await run.exit).toEqual({ code: 0, signal: null });
    await expectGone(run);
  });
});
