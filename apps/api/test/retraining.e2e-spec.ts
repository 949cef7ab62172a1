import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { writeFixtureDataset } from '@app/ml/testing';
import { REDIS_COMMAND_TIMEOUT_MS } from '@app/queue';
import { TcpProxy } from './support/tcp-proxy';
import { startTestApi, type TestApi } from './support/test-api';

/** Small models: the suite is about the pipeline, not accuracy. One network, so training takes a few seconds. */
const PARAMS = { neuralModels: 1, linearViews: ['merged'], withImages: false };

interface JobBody {
  id: string;
  state: string;
  phase: string;
  resultVersion: string | null;
  deduplicated?: boolean;
  [key: string]: unknown;
}

describe('retraining jobs over HTTP (e2e, embedded mode: SQLite, in-process queue)', () => {
  let root: string;
  let api: TestApi;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'retraining-e2e-'));
    await writeFixtureDataset(join(root, 'data'));
    // The fixture's evaluation split holds a single image-only row: the floor would refuse every text model.
    api = await startTestApi({ DATA_DIR: join(root, 'data'), LOG_LEVEL: 'error', GATE_FLOOR: '0' });
  });
  afterAll(async () => {
    await api.app.close();
    rmSync(root, { recursive: true, force: true });
  });

  async function waitForJob(id: string, state: string, timeoutMs = 60_000): Promise<JobBody> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { body } = await api.as('ml-engineer').get(`/v1/retraining-jobs/${id}`).expect(200);
      if (body.state === state) return body as JobBody;
      if (Date.now() > deadline) throw new Error(`job ${id} is ${body.state}/${body.phase}, not ${state}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('takes a request (202 + Location), trains off the event loop, publishes, promotes and serves the version', async () => {
    const gaps: number[] = [];
    let probing = true;
    const probe = (async () => {
      let last = Date.now();
      while (probing) {
        await request(api.http).get('/health/live').expect(200);
        const now = Date.now();
        gaps.push(now - last);
        last = now;
        await new Promise((r) => setTimeout(r, 50));
      }
    })();

    const res = await api
      .as('ml-engineer')
      .post('/v1/retraining-jobs')
      .send({ reason: 'first model', params: { ...PARAMS, seed: 7 } })
      .expect(202);
    const job = res.body as JobBody;
    expect(res.headers.location).toBe(`/v1/retraining-jobs/${job.id}`);
    const capitals = await api
      .as('ml-engineer')
      .get(`/v1/retraining-jobs/${job.id.toUpperCase()}`)
      .expect(200);
    expect(capitals.body.id).toBe(job.id);
    expect(job).toMatchObject({
      trigger: 'admin:test-ml-engineer',
      reason: 'first model',
      deduplicated: false,
    });

    const done = await waitForJob(job.id, 'succeeded');
    probing = false;
    await probe;
    expect(done).toMatchObject({
      phase: 'done',
      attempts: 1,
      error: null,
      resultVersion: expect.any(String),
    });
    await api.waitForVersion(done.resultVersion!);
    const version = await api.as('ml-engineer').get(`/v1/models/${done.resultVersion}`).expect(200);
    expect(version.body).toMatchObject({
      isProduction: true,
      source: 'retraining',
      createdBy: 'admin:test-ml-engineer',
    });
    expect(version.body.lineage).toMatchObject({
      trigger: 'admin:test-ml-engineer',
      jobId: job.id,
      evaluationSplit: expect.stringMatching(/^[0-9a-f]{64}$/),
      params: { ...PARAMS, seed: 7 },
    });
    expect(version.body.gate).toMatchObject({ promote: true, reasons: expect.any(Array) });
    const prediction = await api
      .as('client')
      .post('/v1/predictions')
      .send({ designation: 'piscine pompe filtration' })
      .expect(200);
    expect(prediction.body.modelVersion).toBe(done.resultVersion);
    const metrics = (await request(api.http).get('/metrics').expect(200)).text;
    expect(metrics).toMatch(/^retraining_requests_total\{result="created"\} 1$/m);
    expect(metrics).toMatch(/^retraining_job_runs_total\{outcome="promoted"\} 1$/m);
    expect(metrics).toMatch(/^retraining_job_duration_seconds_count\{outcome="promoted"\} 1$/m);
    expect(metrics).toMatch(/^retraining_gate_promote 1$/m);
    expect(metrics).toMatch(/^retraining_gate_weighted_f1\{model="candidate"\} [\d.]+$/m);
    expect(metrics).toMatch(/^retraining_queue_jobs\{state="active"\} 0$/m);
    // The API kept answering while the model trained in its child process.
    expect(Math.max(...gaps)).toBeLessThan(2_000);
  });

  it('keeps at most one job running and one waiting: requests while one waits return it', async () => {
    const ask = () =>
      api.as('ml-engineer').post('/v1/retraining-jobs').send({ reason: 'burst', params: PARAMS }).expect(202);
    const first = (await ask()).body as JobBody;
    await waitForJob(first.id, 'running');
    const rest = [];
    for (let i = 0; i < 10; i++) rest.push((await ask()).body as JobBody);
    const waiting = rest[0];
    expect(waiting.deduplicated).toBe(false);
    expect(rest.slice(1).every((j) => j.id === waiting.id && j.deduplicated)).toBe(true);
    const list = (await api.as('ml-engineer').get('/v1/retraining-jobs').expect(200)).body as JobBody[];
    expect(list.slice(0, 2).map((j) => j.id)).toEqual([waiting.id, first.id]);
    expect(list.filter((j) => j.state === 'running' || j.state === 'queued')).toHaveLength(2);
    const metrics = (await request(api.http).get('/metrics').expect(200)).text;
    expect(metrics).toMatch(/^retraining_requests_total\{result="deduplicated"\} 9$/m);
    expect(metrics).toMatch(/^retraining_queue_jobs\{state="waiting"\} 1$/m);
    expect(metrics).toMatch(/^retraining_queue_jobs\{state="active"\} 1$/m);
    await waitForJob(waiting.id, 'succeeded');
  });

  it('refuses bad requests with 400 naming the field, and unknown jobs with 404', async () => {
    const post = (body: unknown) =>
      api
        .as('ml-engineer')
        .post('/v1/retraining-jobs')
        .send(body as object);
    const cases: [unknown, RegExp][] = [
      [{}, /reason/],
      [{ reason: '' }, /reason/],
      [{ reason: 'x', params: { seed: -1 } }, /params\.seed/],
      [{ reason: 'x', params: { seed: 'one' } }, /params\.seed/],
      [{ reason: 'x', params: { neuralModels: 9 } }, /params\.neuralModels/],
      [{ reason: 'x', params: { linearViews: ['tfidf'] } }, /linearViews/],
      [{ reason: 'x', params: { withImages: 'yes' } }, /params\.withImages/],
      [{ reason: 'x', params: { epochs: 3 } }, /epochs/],
      [{ reason: 'x', priority: 1 }, /priority/],
    ];
    for (const [body, message] of cases) {
      const res = await post(body).expect(400);
      expect(JSON.stringify(res.body.message)).toMatch(message);
    }
    await api.as('ml-engineer').get('/v1/retraining-jobs/0b8f3a34-6f7c-4d8e-9a4b-1c2d3e4f5a6b').expect(404);
    await api.as('ml-engineer').get('/v1/retraining-jobs/not-a-uuid').expect(400);
    await api.as('ml-engineer').get('/v1/retraining-jobs?limit=0').expect(400);
  });
});

describe('retraining jobs when the queue is unreachable', () => {
  it('answers 503 with Retry-After and records no job', async () => {
    const api = await startTestApi({ REDIS_URL: 'redis://127.0.0.1:1' });
    try {
      const res = await api
        .as('ml-engineer')
        .post('/v1/retraining-jobs')
        .send({ reason: 'queue down' })
        .expect(503);
      expect(res.headers['retry-after']).toBeDefined();
      expect(res.body.message).toMatch(/Redis/);
      const list = await api.as('ml-engineer').get('/v1/retraining-jobs').expect(200);
      expect(list.body).toEqual([]);
    } finally {
      await api.app.close();
    }
  });
});

describe('retraining requests during a Redis outage (two replicas, Redis behind proxies)', () => {
  it('every replica refuses with one message within one bound, however long Redis has been away', async () => {
    const proxies = await Promise.all([
      new TcpProxy('127.0.0.1', 6379).start(),
      new TcpProxy('127.0.0.1', 6379).start(),
    ]);
    const prefix = `outage-${Date.now()}`;
    const replicas = await Promise.all(
      proxies.map((proxy) =>
        startTestApi({ REDIS_URL: `redis://127.0.0.1:${proxy.port}`, QUEUE_PREFIX: prefix }),
      ),
    );
    try {
      // One replica lost Redis a while ago (its client is between reconnection attempts), the other just now.
      await proxies[0].cut();
      await new Promise((r) => setTimeout(r, 3_000));
      await proxies[1].cut();
      const answers = [];
      for (const api of replicas) {
        const started = Date.now();
        const res = await api
          .as('ml-engineer')
          .post('/v1/retraining-jobs')
          .send({ reason: 'Redis is away' })
          .expect(503);
        answers.push({
          message: res.body.message,
          ms: Date.now() - started,
          retryAfter: res.headers['retry-after'],
        });
      }
      expect(answers[0].message).toBe(
        'could not enqueue the retraining job: the queue (Redis) is unreachable',
      );
      expect(answers[1].message).toBe(answers[0].message);
      for (const answer of answers) {
        expect(answer.retryAfter).toBeDefined();
        expect(answer.ms).toBeLessThan(REDIS_COMMAND_TIMEOUT_MS + 1_000);
      }
    } finally {
      await Promise.all(replicas.map((api) => api.app.close()));
      await Promise.all(proxies.map((proxy) => proxy.close()));
    }
  });
});
