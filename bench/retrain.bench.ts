/**
 * npm run bench:retrain: one retraining job on all of the shared Rakuten data, through the real deployment shape:
 * two API replicas and one worker as child processes, on PostgreSQL (a fresh schema), Redis (this run's own queue
 * prefix) and s3rver. A quick first model is trained and promoted first, so that the measured job replaces a
 * production model. Prints the time from the request to every replica serving the new version, the training time,
 * the queue's overhead (enqueue to start), the gate's decision, and the API's throughput and p99 at concurrency 16,
 * idle and while the worker trains. Progress goes to stderr; the figures, then one JSON summary line, to stdout.
 *
 * BENCH_SECONDS (default 15) is the length of each load phase; BENCH_DEADLINE_S (default 900) bounds the whole run;
 * BENCH_SMOKE=1 measures the quick model (one linear model, about 10 s) over a first model trained on 1,500 rows,
 * with 3-second load phases, to check the bench itself; BENCH_VERBOSE=1 streams the worker's log.
 */
import autocannon, { type Result } from 'autocannon';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import {
  freePorts,
  hasExited,
  killProcessGroup,
  lastLines,
  productionSettings,
  startNodeEntry,
  stopProcess,
  TEST_REDIS_URL,
  waitUntilAnswering,
  type ServiceProcess,
} from '@app/config/testing';
import { createPostgresTestSchema } from '@app/database/testing';
import { loadRakutenDataset, rakutenDataDir } from '@app/ml';
import { RETRAINING_QUEUE } from '@app/queue';
import { redisOptionsFromUrl } from '@app/redis';
import { startS3rver } from '@app/storage/testing';

const SMOKE = process.env.BENCH_SMOKE === '1';
const VERBOSE = process.env.BENCH_VERBOSE === '1';
const SECONDS = Number(process.env.BENCH_SECONDS ?? (SMOKE ? 3 : 15));
const DEADLINE_MS = Number(process.env.BENCH_DEADLINE_S ?? 900) * 1000;
const CONNECTIONS = 16;
const POLL_MS = 250;
/** The quick model: one linear text model, no networks, no images. */
const QUICK = { neuralModels: 0, linearViews: ['merged'], withImages: false };
/**
 * The first model, then the measured job: the full default model on all the data. A smoke run measures the quick
 * model, over a first model trained on 1,500 rows, which it beats: the swap to every replica is measured too.
 */
const FIRST_PARAMS = SMOKE ? { ...QUICK, maxRows: 1500 } : QUICK;
const MEASURED_PARAMS = SMOKE ? QUICK : {};
/** The issue's targets. */
const TARGET_TOTAL_S = 300;
const TARGET_QUEUE_MS = 100;

const started = performance.now();
const elapsed = (): string => `${((performance.now() - started) / 1000).toFixed(1)} s`;
const progress = (line: string): void => console.error(`[bench:retrain ${elapsed()}] ${line}`);
const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

interface Child extends ServiceProcess {
  base: string;
}

interface Job {
  id: string;
  /** queued, running, succeeded, failed (or a state this bench does not know, taken as the end). */
  state: string;
  phase: string;
  attempts: number;
  error: string | null;
  resultVersion: string | null;
  gate: { promote?: boolean; reasons?: string[] } | null;
  progress: Record<string, unknown> | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  deduplicated?: boolean;
}

interface LoadFigures {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  non2xx: number;
  errors: number;
  timeouts: number;
}

class BenchFailure extends Error {}

const children: Child[] = [];
const cleanups: (() => Promise<unknown>)[] = [];
let cleaning: Promise<void> | undefined;

async function main(): Promise<void> {
  const dataDir = rakutenDataDir();
  if (!dataDir) {
    console.error(
      'bench:retrain skipped: no Rakuten data (set RAKUTEN_DATA_DIR or place it at ../shared/data/rakuten)',
    );
    return;
  }
  const deadline = setTimeout(() => {
    console.error(`bench:retrain: the run passed its deadline of ${DEADLINE_MS / 1000} s: stopping`);
    void cleanUp().finally(() => process.exit(1));
    setTimeout(() => process.exit(1), 30_000).unref();
  }, DEADLINE_MS);
  deadline.unref();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`bench:retrain: ${signal}: stopping`);
      void cleanUp().finally(() => process.exit(1));
    });
  }
  // Last resort, should the process end without cleanUp(): no child (or its training process) outlives the bench.
  process.once('exit', () => children.forEach((child) => killProcessGroup(child)));

  try {
    await run(dataDir);
  } finally {
    clearTimeout(deadline);
    await cleanUp();
  }
}

async function run(dataDir: string): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'bench-retrain-'));
  cleanups.push(async () => rmSync(root, { recursive: true, force: true }));
  progress(`data ${dataDir}${SMOKE ? ' (smoke run: a small measured job)' : ''}`);

  const schema = await createPostgresTestSchema();
  cleanups.push(() => schema.drop());
  const s3 = await startS3rver('models');
  cleanups.push(() => s3.stop());
  const queuePrefix = `bench-${randomUUID()}`;
  cleanups.push(() => obliterateQueue(queuePrefix));
  const admin = { username: 'bench-admin', password: randomBytes(16).toString('hex') };
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    ...productionSettings(schema, s3, queuePrefix),
    // Shared by the replicas, so that each accepts the token the other issued.
    JWT_SECRET: randomBytes(32).toString('hex'),
    // One token for the whole run, however long the training takes.
    JWT_ACCESS_TTL_SECONDS: '3600',
    ADMIN_USERNAME: admin.username,
    ADMIN_PASSWORD: admin.password,
    LOG_LEVEL: 'warn',
    NO_COLOR: '1',
  };
  const apiEnv = (name: string, port: number): Record<string, string> => ({
    ...env,
    PORT: String(port),
    VAR_DIR: join(root, name),
    DATA_DIR: '',
    BOOTSTRAP_MODEL: 'off',
    MODEL_POLL_INTERVAL_MS: '1000',
    // The bench measures capacity from one client: per-user and per-address limits would cap it.
    RATE_LIMIT_PER_MINUTE: '0',
    IP_RATE_LIMIT_PER_MINUTE: '0',
  });

  // The first replica alone creates the tables and the admin; then the second replica and the worker.
  const [port1, port2, workerPort] = await freePorts(3);
  const api1 = await startChild('api-1', 'apps/api/src/main.ts', apiEnv('api-1', port1), port1);
  const [api2, worker] = await Promise.all([
    startChild('api-2', 'apps/api/src/main.ts', apiEnv('api-2', port2), port2),
    startChild(
      'worker',
      'apps/worker/src/main.ts',
      {
        ...env,
        WORKER_PORT: String(workerPort),
        DATA_DIR: dataDir,
        VAR_DIR: join(root, 'worker'),
        WORKER_SHUTDOWN_MS: '5000',
        LOG_LEVEL: 'log',
      },
      workerPort,
    ),
  ]);
  const replicas = [api1, api2];
  const headers = {
    'content-type': 'application/json',
    authorization: `Bearer ${await accessToken(api1.base, admin.username, admin.password)}`,
  };
  const texts = sampleTexts(dataDir, 500);

  // A production model to replace: the quick model, promoted since there is none yet.
  progress(`first model: a retraining job with ${JSON.stringify(FIRST_PARAMS)}`);
  const first = await requestJob(api1.base, headers, { reason: 'bench warm-up', params: FIRST_PARAMS });
  const firstDone = await waitForJob(api2.base, headers, first.id, worker);
  if (!firstDone.gate?.promote) {
    console.error(`the first model ${firstDone.resultVersion} was not promoted:`);
    for (const reason of firstDone.gate?.reasons ?? []) console.error(`  ${reason}`);
    throw new BenchFailure('no production model to replace');
  }
  const v1 = firstDone.resultVersion!;
  await waitForServing(replicas, headers, v1, 60_000);
  progress(`both replicas serve ${v1}`);

  const single = texts.map((t) => ({
    method: 'POST' as const,
    path: '/v1/predictions',
    headers,
    body: JSON.stringify(t),
  }));
  await load(api1.base, single, 4, 3);
  progress(`idle load: ${SECONDS} s at concurrency ${CONNECTIONS} on api-1`);
  const idle = figures(await load(api1.base, single, CONNECTIONS, SECONDS));
  report(`single text predictions, concurrency ${CONNECTIONS}, idle`, idle);

  // The measured job. Polled through the second replica, which the load does not queue behind.
  progress(`measured job: ${JSON.stringify(MEASURED_PARAMS)}`);
  const t0 = performance.now();
  const since = (): number => (performance.now() - t0) / 1000;
  const job = await requestJob(api1.base, headers, { reason: 'bench', params: MEASURED_PARAMS });
  const enqueueMs = performance.now() - t0;
  const phases: Record<string, number> = {};
  let loading: Promise<Result> | undefined;
  let loadWindow: [number, number] | undefined;
  let training: [number, number | undefined] | undefined;
  const servedAt: (number | undefined)[] = replicas.map(() => undefined);
  const servedVersion: (string | undefined)[] = replicas.map(() => undefined);
  let body: Job = job;
  let succeededAt: number | undefined;
  for (;;) {
    assertChildrenAlive();
    body = await getJob(api2.base, headers, job.id);
    const now = since();
    if (phases[body.phase] === undefined) {
      phases[body.phase] = now;
      progress(`job ${body.state}/${body.phase} at ${now.toFixed(1)} s`);
    }
    // The row's phase is written at most once a second while training: a training that short (the smoke run's
    // quick model) may never show it, and then its window starts with the data loading.
    if (body.phase === 'training' && phases.training === now) training = [now, undefined];
    else if (body.phase === 'loading-data' && !training) training = [now, undefined];
    const pastTraining =
      body.state !== 'queued' && !['starting', 'loading-data', 'training'].includes(body.phase);
    if (pastTraining && training && training[1] === undefined) training[1] = now;
    // The load starts with the training; a training too short to be seen still gets its load phase (smoke runs).
    if (!loading && (body.phase === 'training' || pastTraining)) {
      const from = now;
      progress(`load while training: ${SECONDS} s at concurrency ${CONNECTIONS} on api-1`);
      loading = load(api1.base, single, CONNECTIONS, SECONDS).then((result) => {
        loadWindow = [from, since()];
        return result;
      });
    }
    if (pastTraining) {
      // Which version each replica answers with, from the end of training on: the swap lands before the job's row
      // says succeeded.
      await Promise.all(
        replicas.map(async (replica, i) => {
          if (servedAt[i] !== undefined) return;
          const version = await servingVersion(replica.base, headers);
          if (version && version !== v1) [servedAt[i], servedVersion[i]] = [since(), version];
        }),
      );
    }
    if (body.state === 'succeeded') {
      succeededAt = now;
      break;
    }
    if (body.state !== 'queued' && body.state !== 'running') {
      console.error(lastLines(worker));
      throw new BenchFailure(`the measured job ended ${body.state}: ${body.error ?? body.phase}`);
    }
    await sleep(POLL_MS);
  }
  const promoted = body.gate?.promote === true;
  const target = body.resultVersion!;
  if (promoted) {
    const wait = performance.now() + 60_000;
    for (;;) {
      await Promise.all(
        replicas.map(async (replica, i) => {
          if (servedVersion[i] === target) return;
          if ((await servingVersion(replica.base, headers)) === target) {
            [servedAt[i], servedVersion[i]] = [since(), target];
          }
        }),
      );
      if (servedVersion.every((version) => version === target)) break;
      if (performance.now() > wait) {
        throw new BenchFailure(`${target} was promoted, but replicas serve ${servedVersion.join(', ')}`);
      }
      await sleep(100);
    }
    progress(`both replicas serve ${target}`);
  }
  const during = loading ? figures(await loading) : undefined;
  const totalSeconds = promoted ? Math.max(...(servedAt as number[])) : succeededAt;
  const queueOverheadMs = body.startedAt
    ? new Date(body.startedAt).getTime() - new Date(body.createdAt).getTime()
    : undefined;
  const trainingSeconds = training ? (training[1] ?? succeededAt) - training[0] : undefined;
  const overlap =
    loadWindow && training
      ? Math.max(
          0,
          Math.min(loadWindow[1], training[1] ?? succeededAt) - Math.max(loadWindow[0], training[0]),
        )
      : 0;
  const trainingSeenAlone = phases.training !== undefined;
  const trainer = await trainerTimings(api2.base, headers, target);

  if (during) {
    report(`single text predictions, concurrency ${CONNECTIONS}, while training`, during);
    if (loadWindow && overlap < loadWindow[1] - loadWindow[0] - 0.5) {
      console.log(
        `  (the training overlapped ${overlap.toFixed(1)} s of the ${(loadWindow[1] - loadWindow[0]).toFixed(1)} s load)`,
      );
    }
  }
  console.log(`retraining job ${body.id} on ${dataDir}, params ${JSON.stringify(MEASURED_PARAMS)}:`);
  console.log(`  enqueue answered in ${enqueueMs.toFixed(0)} ms`);
  console.log(
    `  queue overhead (createdAt to startedAt): ${queueOverheadMs ?? '?'} ms (target < ${TARGET_QUEUE_MS} ms), ` +
      `attempts ${body.attempts}`,
  );
  console.log(
    `  phases first seen at: ${Object.entries(phases)
      .map(([phase, at]) => `${phase} ${at.toFixed(1)} s`)
      .join(', ')}`,
  );
  console.log(
    `  training ${trainingSeconds?.toFixed(1) ?? '?'} s as polled ` +
      `(${trainingSeenAlone ? 'phase "training"' : 'phases "loading-data" and "training": training was not seen alone'}); ` +
      `${trainer.totalSeconds?.toFixed(1) ?? '?'} s by the trainer's own clock`,
  );
  console.log(`  gate: ${promoted ? 'promote' : 'keep as a candidate'}`);
  for (const reason of body.gate?.reasons ?? []) console.log(`    ${reason}`);
  if (promoted) {
    console.log(
      `  request to every replica serving ${target}: ${totalSeconds!.toFixed(1)} s ` +
        `(${servedAt.map((at, i) => `${replicas[i].name} ${at!.toFixed(1)} s`).join(', ')}; ` +
        `target < ${TARGET_TOTAL_S} s)`,
    );
  } else {
    console.log(`  ${target} not promoted: request to succeeded ${totalSeconds!.toFixed(1)} s`);
  }
  console.log(
    JSON.stringify({
      bench: 'retrain',
      smoke: SMOKE,
      dataDir,
      params: MEASURED_PARAMS,
      loadSeconds: SECONDS,
      connections: CONNECTIONS,
      productionBefore: v1,
      resultVersion: target,
      promoted,
      gateReasons: body.gate?.reasons ?? [],
      totalSeconds: round(totalSeconds!),
      totalUnderTarget: promoted ? totalSeconds! < TARGET_TOTAL_S : null,
      succeededSeconds: round(succeededAt),
      servedSeconds: Object.fromEntries(replicas.map((r, i) => [r.name, round(servedAt[i])])),
      trainingSeconds: round(trainingSeconds),
      trainingIncludesLoading: !trainingSeenAlone,
      trainerSeconds: round(trainer.totalSeconds),
      enqueueMs: Math.round(enqueueMs),
      queueOverheadMs: queueOverheadMs ?? null,
      queueOverheadUnderTarget: queueOverheadMs === undefined ? null : queueOverheadMs < TARGET_QUEUE_MS,
      attempts: body.attempts,
      phases: Object.fromEntries(Object.entries(phases).map(([phase, at]) => [phase, round(at)])),
      idle,
      whileTraining: during ? { ...during, trainingOverlapSeconds: round(overlap) } : null,
    }),
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Processes

/** An app as a real process (ts-node, as `npm start` runs it), in a process group of its own, up on /health/live. */
async function startChild(
  name: string,
  entry: string,
  env: Record<string, string>,
  port: number,
): Promise<Child> {
  const child: Child = {
    base: `http://127.0.0.1:${port}`,
    ...startNodeEntry(name, entry, {
      env,
      onLine: (line) => {
        // The APIs log warnings and errors only; the worker's ordinary log is kept for a failure.
        if (VERBOSE || name !== 'worker' || /\b(WARN|ERROR|FATAL)\b|stopping/.test(line)) {
          console.error(`[${name}] ${line}`);
        }
      },
    }),
  };
  children.push(child);
  progress(`starting ${name} on port ${port}`);
  try {
    await waitUntilAnswering(child, `${child.base}/health/live`);
  } catch (error) {
    console.error((error as Error).message);
    throw new BenchFailure(`${name} did not start`);
  }
  progress(`${name} is up`);
  return child;
}

/** Fails at once when a child ended, instead of waiting for a job nobody runs; stops the polling at a clean-up. */
function assertChildrenAlive(): void {
  if (cleaning) throw new BenchFailure('stopped');
  const gone = children.find(hasExited);
  if (gone) {
    console.error(lastLines(gone));
    throw new BenchFailure(
      `${gone.name} exited (${gone.process.signalCode ?? `code ${gone.process.exitCode}`}) during the run`,
    );
  }
}

/** SIGTERM, then SIGKILL after 10 s; then SIGKILL to the group, for anything its leader left behind. */
async function stopChild(child: Child): Promise<void> {
  if (!(await stopProcess(child, 10_000)))
    progress(`${child.name} did not stop within 10 s of SIGTERM: SIGKILL`);
}

function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    await Promise.all(children.map(stopChild));
    for (const step of cleanups.reverse()) {
      await step().catch((error: unknown) => console.error(`clean-up: ${(error as Error).message}`));
    }
  })();
  return cleaning;
}

async function obliterateQueue(prefix: string): Promise<void> {
  const queue = new Queue(RETRAINING_QUEUE, {
    connection: redisOptionsFromUrl(TEST_REDIS_URL, { maxRetriesPerRequest: 1 }),
    prefix,
  });
  try {
    await queue.obliterate({ force: true });
  } finally {
    await queue.close();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// HTTP

async function call<T>(url: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  if (!res.ok) throw new BenchFailure(`${init.method ?? 'GET'} ${url}: ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

/** An access token from the OAuth2 password grant, as a real client would get one. */
async function accessToken(base: string, username: string, password: string): Promise<string> {
  const body = await call<{ access_token: string }>(`${base}/v1/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', username, password }).toString(),
  });
  return body.access_token;
}

async function requestJob(base: string, headers: Record<string, string>, request: unknown): Promise<Job> {
  const job = await call<Job>(`${base}/v1/retraining-jobs`, {
    method: 'POST',
    headers,
    body: JSON.stringify(request),
  });
  if (job.deduplicated) throw new BenchFailure(`another job was already waiting: ${job.id}`);
  return job;
}

function getJob(base: string, headers: Record<string, string>, id: string): Promise<Job> {
  return call<Job>(`${base}/v1/retraining-jobs/${id}`, { headers });
}

async function waitForJob(
  base: string,
  headers: Record<string, string>,
  id: string,
  worker: Child,
): Promise<Job> {
  let phase = '';
  for (;;) {
    assertChildrenAlive();
    const job = await getJob(base, headers, id);
    if (job.phase !== phase) progress(`job ${job.state}/${(phase = job.phase)}`);
    if (job.state === 'succeeded') return job;
    if (job.state !== 'queued' && job.state !== 'running') {
      console.error(lastLines(worker));
      throw new BenchFailure(`job ${id} ended ${job.state}: ${job.error ?? job.phase}`);
    }
    await sleep(POLL_MS);
  }
}

/** The version a replica answers a prediction with; undefined while it serves none or does not answer. */
async function servingVersion(base: string, headers: Record<string, string>): Promise<string | undefined> {
  try {
    const body = await call<{ modelVersion: string }>(`${base}/v1/predictions`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ designation: 'bench retrain probe' }),
    });
    return body.modelVersion;
  } catch {
    return undefined;
  }
}

async function waitForServing(
  replicas: Child[],
  headers: Record<string, string>,
  version: string,
  timeoutMs: number,
): Promise<void> {
  const until = performance.now() + timeoutMs;
  for (;;) {
    const versions = await Promise.all(replicas.map((replica) => servingVersion(replica.base, headers)));
    if (versions.every((v) => v === version)) return;
    if (performance.now() > until) {
      throw new BenchFailure(`replicas serve ${versions.join(', ')} instead of ${version}`);
    }
    await sleep(100);
  }
}

/** The training time the trainer measured itself (the model card's timings), without the polling's resolution. */
async function trainerTimings(
  base: string,
  headers: Record<string, string>,
  version: string,
): Promise<{ totalSeconds?: number }> {
  try {
    const body = await call<{ modelCard?: { timings?: { totalSeconds?: number } } }>(
      `${base}/v1/models/${version}`,
      { headers },
    );
    return body.modelCard?.timings ?? {};
  } catch {
    return {};
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Load

function sampleTexts(dataDir: string, n: number): { designation: string; description?: string }[] {
  const { products } = loadRakutenDataset(dataDir);
  return products
    .slice(0, n)
    .map(({ designation, description }) => (description ? { designation, description } : { designation }));
}

function load(
  base: string,
  requests: autocannon.Request[],
  connections: number,
  duration: number,
): Promise<Result> {
  return new Promise((done, fail) => {
    autocannon({ url: base, connections, duration, requests, timeout: 10 }, (error, result) =>
      error ? fail(error) : done(result),
    );
  });
}

function figures(result: Result): LoadFigures {
  return {
    requestsPerSecond: Math.round(result.requests.average),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  };
}

function report(title: string, f: LoadFigures): void {
  console.log(`${title}:`);
  console.log(
    `  ${f.requestsPerSecond} requests/s, latency p50 ${f.p50Ms} ms, p99 ${f.p99Ms} ms, max ${f.maxMs} ms; ` +
      `non-2xx ${f.non2xx}, errors ${f.errors}, timeouts ${f.timeouts}`,
  );
}

const round = (x: number | undefined): number | null => (x === undefined ? null : Math.round(x * 10) / 10);

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof BenchFailure ? `bench:retrain failed: ${error.message}` : error);
    process.exit(1);
  },
);
