import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Queue } from 'bullmq';
import request from 'supertest';
import { createPostgresTestSchema, type PostgresTestSchema } from '@app/database/testing';
import { rakutenDataDir } from '@app/ml';
import { RETRAINING_QUEUE } from '@app/queue';
import { S3ArtifactStore } from '@app/storage';
import { startS3rver, type S3rverFixture } from '@app/storage/testing';
import { TcpProxy } from './support/tcp-proxy';
import { startTestApi, type TestApi } from './support/test-api';
import { freePort, productionSettings } from '@app/config/testing';

const ROOT = resolve(__dirname, '../../..');
/**
 * Two linear models on a sample of the shared data: long enough to stop mid-training (several seconds), short enough
 * for a test on a busy machine (a network's epochs took 20 s each there).
 */
const PARAMS = { neuralModels: 0, linearViews: ['merged', 'blocked'], withImages: false, maxRows: 2500 };

interface WorkerProcess {
  child: ChildProcess;
  port: number;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** The worker as a real process (ts-node, as `npm run start:worker` runs its compiled form). */
async function startWorker(env: Record<string, string>): Promise<WorkerProcess> {
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
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.once('exit', (code, signal) => done({ code, signal })),
  );
  const deadline = Date.now() + 60_000;
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
  return { child, port, output: () => output, exited };
}

const isAlive = (worker: WorkerProcess) => worker.child.exitCode === null && worker.child.signalCode === null;

// Training on a shared 2-core machine: a run that takes 20 s alone may take several times that under load.
jest.setTimeout(300_000);

const dataDir = rakutenDataDir();
const describeWithData = dataDir ? describe : describe.skip;

describeWithData(
  'the retraining worker (e2e: real processes, PostgreSQL, Redis, s3rver, the shared data)',
  () => {
    let root: string;
    let schema: PostgresTestSchema;
    let s3: S3rverFixture;
    let api: TestApi;
    let env: Record<string, string>;
    const workers: WorkerProcess[] = [];

    beforeAll(async () => {
      root = mkdtempSync(join(tmpdir(), 'worker-e2e-'));
      [schema, s3] = await Promise.all([createPostgresTestSchema(), startS3rver('models')]);
      env = {
        ...productionSettings(schema, s3),
        DATA_DIR: dataDir!,
        VAR_DIR: join(root, 'worker-var'),
        WORKER_SHUTDOWN_MS: '5000',
        // A sample of 2,500 rows and no image model (its image-only evaluation rows count as wrong): the default
        // floor of 0.5 is for full models.
        GATE_FLOOR: '0.3',
        LOG_LEVEL: 'log',
      };
      api = await startTestApi({ ...env, VAR_DIR: join(root, 'api-var'), DATA_DIR: '' });
    });
    afterAll(async () => {
      for (const worker of workers) worker.child.kill('SIGKILL');
      await api?.app.close();
      const queue = new Queue(RETRAINING_QUEUE, {
        connection: { host: '127.0.0.1', port: 6379 },
        prefix: env.QUEUE_PREFIX,
      });
      await queue.obliterate({ force: true });
      await queue.close();
      await Promise.all([schema?.drop(), s3?.stop()]);
      rmSync(root, { recursive: true, force: true });
    });

    const job = async (id: string) =>
      (await api.as('ml-engineer').get(`/v1/retraining-jobs/${id}`).expect(200)).body;
    async function waitFor(
      id: string,
      check: (body: Record<string, unknown>) => boolean,
      timeoutMs = 120_000,
    ) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const body = await job(id);
        if (check(body)) return body;
        if (Date.now() > deadline)
          throw new Error(`job ${id} is ${body.state}/${body.phase}:\n${workers.at(-1)?.output()}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    /**
     * Resolves once the job trains: its row says so, or a worker's log does (with linear models only, the row can
     * go from loading-data to done between two polls on a busy machine).
     */
    const untilTraining = (id: string) =>
      waitFor(
        id,
        (j) =>
          j.phase === 'training' ||
          workers.some((w) => isAlive(w) && w.output().includes(`job ${id}: training `)),
      );
    const spawnWorker = async () => {
      const worker = await startWorker(env);
      workers.push(worker);
      return worker;
    };
    const versionsOf = async (jobId: string) =>
      (await api.registry.list()).filter((v) => v.lineage?.jobId === jobId).map((v) => v.version);

    it('answers health and readiness on WORKER_PORT', async () => {
      const worker = await spawnWorker();
      await request(`http://127.0.0.1:${worker.port}`).get('/health/live').expect(200, { status: 'ok' });
      const ready = await request(`http://127.0.0.1:${worker.port}`).get('/health/ready').expect(200);
      expect(ready.body.checks).toEqual({ database: { status: 'up' }, queue: { status: 'up' } });
      const metrics = await request(`http://127.0.0.1:${worker.port}`).get('/metrics').expect(200);
      expect(metrics.headers['content-type']).toMatch(/^text\/plain;.*version=0\.0\.4/);
      expect(metrics.text).toMatch(/^nodejs_eventloop_lag_seconds \d/m);
    });

    it('SIGTERM mid-training: exits 0 within WORKER_SHUTDOWN_MS, and the next worker completes the job once', async () => {
      const first = workers[0];
      const { body } = await api
        .as('ml-engineer')
        .post('/v1/retraining-jobs')
        .send({ reason: 'stopped by a deploy', params: PARAMS })
        .expect(202);
      await untilTraining(body.id);
      const stopping = Date.now();
      first.child.kill('SIGTERM');
      expect(await first.exited).toEqual({ code: 0, signal: null });
      expect(Date.now() - stopping).toBeLessThan(5_000 + 2_000);
      expect(await job(body.id)).toMatchObject({ state: 'queued', error: null });

      await spawnWorker();
      const done = await waitFor(body.id, (j) => j.state === 'succeeded', 240_000);
      // Two runs started: the one SIGTERM stopped, and the one that finished.
      expect(done.attempts).toBe(2);
      expect(await versionsOf(body.id)).toEqual([done.resultVersion]);
      const version = await api.registry.get(done.resultVersion);
      expect(version.lineage).toMatchObject({
        trigger: 'admin:test-ml-engineer',
        jobId: body.id,
        params: PARAMS,
      });
      // The artifacts are in S3, and the API replica swapped to the promoted version.
      const store = new S3ArtifactStore({ ...s3, region: 'us-east-1' });
      await expect(store.get(`${version.artifactPrefix}model.json`)).resolves.toBeInstanceOf(Buffer);
      store.onModuleDestroy();
      await api.waitForVersion(done.resultVersion, 30_000);
    });

    it('SIGKILL mid-training: a running worker takes the job over within 15 s, one version is published, no folder is left', async () => {
      // Two workers are up before the job: one runs it, the other stays idle (one job at a time across workers).
      await spawnWorker();
      const { body } = await api
        .as('ml-engineer')
        .post('/v1/retraining-jobs')
        .send({ reason: 'worker crashes', params: { ...PARAMS, seed: 1 } })
        .expect(202);
      await untilTraining(body.id);
      const live = workers.filter(isAlive);
      const victim = live.find((worker) => worker.output().includes(body.id))!;
      const successor = live.find((worker) => worker !== victim)!;
      expect(live).toHaveLength(2);
      expect(readdirSync(env.VAR_DIR).filter((name) => name.startsWith('training-'))).toHaveLength(1);
      const killed = Date.now();
      victim.child.kill('SIGKILL');
      await victim.exited;

      // The killed worker's lock expires (10 s), the next stalled check (every 5 s) hands the job over.
      await waitFor(body.id, (j) => (j.attempts as number) >= 2, 60_000);
      const takeover = (Date.now() - killed) / 1000;
      process.stdout.write(`takeover after SIGKILL: ${takeover.toFixed(1)} s\n`);
      expect(takeover).toBeLessThan(15 + 3);
      const done = await waitFor(body.id, (j) => j.state === 'succeeded', 240_000);
      expect(done.attempts).toBe(2);
      expect(await versionsOf(body.id)).toEqual([done.resultVersion]);
      // The dead worker's training folder, and the labelled predictions it had exported there, went with the
      // successor's run.
      expect(
        readdirSync(env.VAR_DIR).filter(
          (name) => name.startsWith('training-') || name === 'feedback-exports',
        ),
      ).toEqual([]);
      // The gate compared it with the production model (the first job's) on the same split.
      expect(done.gate).toMatchObject({ production: expect.objectContaining({ n: expect.any(Number) }) });
      const metrics = await request(`http://127.0.0.1:${successor.port}`).get('/metrics').expect(200);
      expect(metrics.text).toMatch(/^retraining_job_runs_total\{outcome="(promoted|candidate)"\} 1$/m);
      expect(metrics.text).toMatch(/^retraining_gate_weighted_f1\{model="production"\} [\d.]+$/m);
    });

    it('cancel: an operator stops the running job in the worker; it is not retried and the queue takes the next', async () => {
      const worker = workers.find(isAlive)!;
      const { body } = await api
        .as('ml-engineer')
        .post('/v1/retraining-jobs')
        .send({ reason: 'to be cancelled', params: { ...PARAMS, seed: 2 } })
        .expect(202);
      await untilTraining(body.id);
      const cancelled = await api.as('ml-engineer').post(`/v1/retraining-jobs/${body.id}/cancel`).expect(200);
      expect(cancelled.body).toMatchObject({
        state: 'cancelled',
        cancelledBy: 'admin:test-ml-engineer',
        cancelledAt: expect.any(String),
      });
      const deadline = Date.now() + 30_000;
      for (;;) {
        const metrics = await request(`http://127.0.0.1:${worker.port}`).get('/metrics').expect(200);
        if (/^retraining_job_runs_total\{outcome="cancelled"\} 1$/m.test(metrics.text)) break;
        if (Date.now() > deadline) throw new Error(`the worker did not stop the job:\n${worker.output()}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      const queue = new Queue(RETRAINING_QUEUE, {
        connection: { host: '127.0.0.1', port: 6379 },
        prefix: env.QUEUE_PREFIX,
      });
      const queued = await queue.getJob(body.id);
      await queue.close();
      expect(queued?.failedReason).toMatch(/cancelled by admin:test-ml-engineer/);
      expect(await job(body.id)).toMatchObject({ state: 'cancelled', resultVersion: null });
      await api.as('ml-engineer').post(`/v1/retraining-jobs/${body.id}/cancel`).expect(409);
      // The worker is free: the next request runs.
      const next = await api
        .as('ml-engineer')
        .post('/v1/retraining-jobs')
        .send({ reason: 'after the cancel', params: { ...PARAMS, seed: 3 } })
        .expect(202);
      expect(next.body.deduplicated).toBe(false);
      await waitFor(next.body.id, (j) => j.state === 'running');
      await api.as('ml-engineer').post(`/v1/retraining-jobs/${next.body.id}/cancel`).expect(200);
    });
  },
);

describe('the worker when Redis goes away (e2e: a worker process, Redis behind a proxy)', () => {
  it('is not ready while it cannot reach its queue, with the reason, and ready again once Redis is back', async () => {
    const proxy = await new TcpProxy('127.0.0.1', 6379).start();
    const root = mkdtempSync(join(tmpdir(), 'worker-redis-'));
    const worker = await startWorker({
      REDIS_URL: `redis://127.0.0.1:${proxy.port}`,
      QUEUE_PREFIX: `worker-redis-${Date.now()}`,
      DATABASE_URL: '',
      S3_BUCKET: '',
      VAR_DIR: root,
      LOG_LEVEL: 'error',
    });
    const ready = () => request(`http://127.0.0.1:${worker.port}`).get('/health/ready');
    const until = async (status: number, ms: number) => {
      const deadline = Date.now() + ms;
      for (;;) {
        const res = await ready();
        if (res.status === status) return res;
        if (Date.now() > deadline)
          throw new Error(`readiness stayed ${res.status}: ${JSON.stringify(res.body)}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    try {
      await proxy.cut();
      const down = await until(503, 10_000);
      expect(down.body.checks).toMatchObject({
        database: { status: 'up' },
        queue: { status: 'down', detail: expect.stringMatching(/Redis/) },
      });
      await proxy.restore();
      const up = await until(200, 60_000);
      expect(up.body.checks.queue).toEqual({ status: 'up' });
    } finally {
      worker.child.kill('SIGKILL');
      await worker.exited;
      await proxy.close();
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('the worker without Redis', () => {
  it('exits with code 1 and says REDIS_URL is needed', async () => {
    const child = spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', 'apps/worker/src/main.ts'],
      { cwd: ROOT, env: { ...process.env, REDIS_URL: '' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    const code = await new Promise((done) => child.once('exit', done));
    expect(code).toBe(1);
    expect(stderr).toMatch(/REDIS_URL must be set for the worker/);
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});

describe('two API replicas starting on an empty registry (e2e: PostgreSQL, Redis, s3rver, a worker process)', () => {
  it('train exactly one first model, on the demo catalogue, through the queue; both replicas serve it', async () => {
    const root = mkdtempSync(join(tmpdir(), 'bootstrap-e2e-'));
    const [schema, s3] = await Promise.all([createPostgresTestSchema(), startS3rver('models')]);
    const env = {
      ...productionSettings(schema, s3),
      DATA_DIR: '',
      BOOTSTRAP_MODEL: 'auto',
    };
    const replicas: TestApi[] = [];
    let worker: WorkerProcess | undefined;
    try {
      replicas.push(await startTestApi({ ...env, VAR_DIR: join(root, 'a') }));
      replicas.push(await startTestApi({ ...env, VAR_DIR: join(root, 'b') }));
      worker = await startWorker({ ...env, VAR_DIR: join(root, 'worker'), LOG_LEVEL: 'warn' });
      await Promise.all(replicas.map((api) => api.waitForVersion('v1', 180_000)));
      const [a] = replicas;
      // Give a second job, if one had been made, the time to run before counting.
      await new Promise((r) => setTimeout(r, 2_000));
      expect((await a.registry.list()).map((v) => v.version)).toEqual(['v1']);
      expect((await a.registry.get('v1')).lineage).toMatchObject({ trigger: 'bootstrap' });
      const jobs = (await a.as('ml-engineer').get('/v1/retraining-jobs').expect(200)).body as {
        state: string;
      }[];
      expect(jobs.filter((j) => j.state === 'succeeded')).toHaveLength(1);
      expect(jobs.every((j) => j.state === 'succeeded' || j.state === 'skipped')).toBe(true);
    } finally {
      worker?.child.kill('SIGKILL');
      await Promise.all(replicas.map((api) => api.app.close()));
      const queue = new Queue(RETRAINING_QUEUE, {
        connection: { host: '127.0.0.1', port: 6379 },
        prefix: env.QUEUE_PREFIX,
      });
      await queue.obliterate({ force: true });
      await queue.close();
      await Promise.all([schema.drop(), s3.stop()]);
      rmSync(root, { recursive: true, force: true });
    }
  });
});
