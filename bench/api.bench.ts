/**
 * npm run bench:api: load from autocannon against a running API (a child process) serving the bench model.
 * Prints, for every phase, throughput and latency p50/p90/p99/max of answered requests, the requests shed (503),
 * and the API's event-loop delay during the phase: single text predictions at each of BENCH_CONNECTIONS, batch
 * throughput, and failures while the production model is promoted and rolled back under load; checks every
 * answered prediction was stored. BENCH_PHASES=photo (not in the default phases) measures text + photo predictions
 * (JSON, the photo as base64; the backbone runs in IMAGE_FEATURE_THREADS threads) one at a time and at concurrency 4.
 *
 * Side by side in one run, alternating phase by phase: BENCH_BASELINE_ROOT (a checkout of another commit, its
 * node_modules linked) starts that code as a second API, and BENCH_PEER=1 the seed's stack (FastAPI + uvicorn ×2 +
 * scikit-learn, bench/peer) when /usr/bin/python3 has them. BENCH_DATABASE=postgres stores on PostgreSQL
 * (TEST_DATABASE_URL, a fresh schema per API) instead of the embedded SQLite file.
 */
import autocannon from 'autocannon';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AppConfig } from '@app/config';
import { openDataSource } from '@app/database';
import { createPostgresTestSchema, type PostgresTestSchema } from '@app/database/testing';
import { loadRakutenDataset } from '@app/ml';
import { ModelRegistry } from '@app/registry';
import { createArtifactStore } from '@app/storage';
import { BENCH_MODEL_DIR, benchDataDir, percentile } from './bench.util';

const PORT = Number(process.env.BENCH_PORT ?? 3917);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
/** Which parts to run, e.g. BENCH_PHASES=batch to profile the batch endpoint alone. */
const PHASES = new Set((process.env.BENCH_PHASES ?? 'single,batch,swap').split(','));
/** Connection counts of the single-prediction phases. */
const CONNECTIONS = (process.env.BENCH_CONNECTIONS ?? '32,128').split(',').map(Number);
/** Times the single-prediction phases are repeated, every target in turn each time. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 1);
const POSTGRES = process.env.BENCH_DATABASE === 'postgres';
const PYTHON = process.env.BENCH_PYTHON ?? '/usr/bin/python3';
const ROOT = resolve(__dirname, '..');

type DataSource = Awaited<ReturnType<typeof openDataSource>>;

/** A server under load: this tree's API, another commit's API, or the seed's stack. */
interface Target {
  name: string;
  base: string;
  process: ChildProcess;
  headers: Record<string, string>;
  /** Only for the APIs of this project. */
  api?: { env: Record<string, string>; dataSource: DataSource; v2: string; cleanup: () => Promise<void> };
}

interface Phase {
  seconds: number;
  /** Latency in ms of each answered (2xx) request, and of each shed one (503). */
  answered: number[];
  shed: number[];
  other: number;
  errors: number;
  timeouts: number;
}

async function main(): Promise<void> {
  if (!existsSync(join(BENCH_MODEL_DIR, 'model.json'))) {
    console.error(`No model at ${BENCH_MODEL_DIR}: run "npm run bench:train" first`);
    process.exit(1);
  }
  const texts = sampleTexts(500);
  const targets: Target[] = [];
  try {
    targets.push(await startApi('this tree', ROOT, PORT));
    if (process.env.BENCH_BASELINE_ROOT) {
      targets.push(await startApi('baseline', resolve(process.env.BENCH_BASELINE_ROOT), PORT + 2));
    }
    if (process.env.BENCH_PEER) targets.push(await startPeer(PORT + 1));
    console.log(
      `bench:api: ${POSTGRES ? 'PostgreSQL' : 'embedded SQLite'}, ${SECONDS} s per phase, targets: ` +
        `${targets.map((t) => `${t.name} (pid ${t.process.pid})`).join(', ')}; the load generator shares the machine`,
    );
    const single = (target: Target) =>
      texts.map((t) => ({
        method: 'POST' as const,
        path: '/v1/predictions',
        headers: target.headers,
        body: JSON.stringify(t),
      }));

    for (const target of targets) await load(target, single(target), 4, 3);
    if (PHASES.has('single')) {
      for (let round = 1; round <= ROUNDS; round++) {
        for (const connections of CONNECTIONS) {
          for (const target of targets) {
            const result = await load(target, single(target), connections, SECONDS);
            await report(
              `${target.name}: single text predictions, concurrency ${connections}`,
              result,
              1,
              target,
            );
          }
        }
      }
    }

    const main = targets[0];
    const batches = Array.from({ length: 8 }, (_, b) => ({
      method: 'POST' as const,
      path: '/v1/predictions/batch',
      headers: main.headers,
      body: JSON.stringify({
        items: texts
          .slice(b * 60, b * 60 + 256)
          .concat(texts)
          .slice(0, 256),
      }),
    }));
    if (PHASES.has('batch')) {
      await report(
        `${main.name}: batches of 256 text items, concurrency 4`,
        await load(main, batches, 4, SECONDS),
        256,
        main,
      );
    }
    if (PHASES.has('swap')) await swapUnderLoad(main, single(main));
    if (PHASES.has('photo')) {
      const photos = samplePhotos(100).map((item) => ({
        method: 'POST' as const,
        path: '/v1/predictions',
        headers: main.headers,
        body: JSON.stringify(item),
      }));
      await load(main, photos, 1, 3);
      for (const connections of [1, 4]) {
        await report(
          `${main.name}: text + photo predictions, concurrency ${connections}`,
          await load(main, photos, connections, SECONDS),
          1,
          main,
        );
      }
    }

    for (const target of targets.filter((t) => t.api)) {
      // A request still in flight when autocannon stops is answered but not counted by it: compare with the
      // API's own count instead.
      const answered = await answeredByApi(target.base);
      const stored = await countStored(target.api!.dataSource);
      console.log(
        `${target.name}: every prediction stored: ${stored === answered ? 'yes' : 'NO'} ` +
          `(answered ${answered}, stored ${stored})`,
      );
    }
  } finally {
    for (const target of targets) {
      await stop(target.process);
      await target.api?.dataSource.destroy();
      await target.api?.cleanup();
    }
  }
}

/** Registers the bench model twice in a fresh registry and starts the API at `root` on it. */
async function startApi(name: string, root: string, port: number): Promise<Target> {
  const varDir = mkdtempSync(join(tmpdir(), 'bench-api-'));
  let schema: PostgresTestSchema | undefined;
  if (POSTGRES) schema = await createPostgresTestSchema();
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    VAR_DIR: varDir,
    PORT: String(port),
    BOOTSTRAP_MODEL: 'off',
    LOG_LEVEL: 'warn',
    MODEL_POLL_INTERVAL_MS: '1000',
    JWT_SECRET: randomBytes(32).toString('hex'),
    ADMIN_USERNAME: 'bench-admin',
    ADMIN_PASSWORD: randomBytes(16).toString('hex'),
    // The bench measures capacity from one client: per-user and per-address limits would cap it.
    RATE_LIMIT_PER_MINUTE: '0',
    IP_RATE_LIMIT_PER_MINUTE: '0',
    ...(schema && { DATABASE_URL: schema.url, DATABASE_SCHEMA: schema.schema }),
  };
  const config = AppConfig.fromEnvironment(env);
  const dataSource = await openDataSource(config);
  const registry = new ModelRegistry(dataSource, createArtifactStore(config));
  const v1 = (await registry.register(BENCH_MODEL_DIR, { createdBy: 'bench', source: 'bench' })).version;
  const v2 = (await registry.register(BENCH_MODEL_DIR, { createdBy: 'bench', source: 'bench' })).version;
  await registry.promote(v1, { actor: 'bench' });
  const child = spawn(
    process.execPath,
    [
      // BENCH_PROFILE=1 writes a CPU profile of the API process to var/bench/profile when it exits, and
      // BENCH_TRACE_GC=1 prints every garbage collection.
      ...(process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${ROOT}/var/bench/profile`] : []),
      ...(process.env.BENCH_TRACE_GC ? ['--trace-gc'] : []),
      '-r',
      'ts-node/register/transpile-only',
      '-r',
      'tsconfig-paths/register',
      'apps/api/src/main.ts',
    ],
    { cwd: root, env, stdio: ['ignore', 'inherit', 'inherit'] },
  );
  const base = `http://127.0.0.1:${port}`;
  const cleanup = async () => {
    await schema?.drop();
    rmSync(varDir, { recursive: true, force: true });
  };
  try {
    await waitForReady(`${base}/health/ready`, child);
  } catch (error) {
    await stop(child);
    await dataSource.destroy();
    await cleanup();
    throw error;
  }
  return {
    name,
    base,
    process: child,
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${await accessToken(base, env.ADMIN_USERNAME, env.ADMIN_PASSWORD)}`,
    },
    api: { env, dataSource, v2, cleanup },
  };
}

/** The seed's stack: FastAPI + uvicorn (2 workers) + scikit-learn, trained on the same data. */
async function startPeer(port: number): Promise<Target> {
  const check = spawnSync(PYTHON, ['-c', 'import fastapi, uvicorn, sklearn, joblib'], { encoding: 'utf8' });
  if (check.status !== 0) {
    throw new Error(
      `BENCH_PEER needs FastAPI, uvicorn and scikit-learn in ${PYTHON} ` +
        `(Debian: apt-get install python3-fastapi python3-uvicorn python3-sklearn): ${check.stderr.trim()}`,
    );
  }
  const child = spawn(
    PYTHON,
    [
      join(ROOT, 'bench/peer/peer_server.py'),
      '--data',
      benchDataDir(),
      '--model',
      resolve(process.env.BENCH_PEER_MODEL ?? 'var/bench/peer/model.joblib'),
      '--port',
      String(port),
    ],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  const base = `http://127.0.0.1:${port}`;
  try {
    await waitForReady(`${base}/health`, child);
  } catch (error) {
    await stop(child);
    throw error;
  }
  return {
    name: 'seed peer (FastAPI)',
    base,
    process: child,
    headers: { 'content-type': 'application/json' },
  };
}

/** Promotes and rolls back 10 times while single predictions run; reports failures and memory. */
async function swapUnderLoad(target: Target, single: autocannon.Request[]): Promise<void> {
  const rssBeforeSwaps = residentMiB(target.process);
  const swapping = load(target, single, 32, Math.max(SECONDS, 15));
  let swaps = 0;
  const swapStarted = Date.now();
  while (swaps < 10) {
    await post(target, `/v1/models/${target.api!.v2}/promote`, { reason: `bench swap ${swaps}` });
    await post(target, '/v1/models/rollback', { reason: `bench rollback ${swaps}` });
    swaps++;
  }
  const swapSeconds = (Date.now() - swapStarted) / 1000;
  const swapResult = await swapping;
  await report(
    `${target.name}: single text predictions during 10 promotions + 10 rollbacks`,
    swapResult,
    1,
    target,
  );
  console.log(
    `  swaps took ${swapSeconds.toFixed(1)} s; failed requests: ` +
      `${swapResult.shed.length + swapResult.other + swapResult.errors}; ` +
      `API resident memory ${rssBeforeSwaps} MiB before the swaps, ${residentMiB(target.process)} MiB after`,
  );
}

function sampleTexts(n: number): { designation: string; description?: string }[] {
  const { products } = loadRakutenDataset(benchDataDir());
  return products
    .slice(0, n)
    .map(({ designation, description }) => (description ? { designation, description } : { designation }));
}

/** Products with a photo: title, description and the photo's bytes as base64, as a client sends them in JSON. */
function samplePhotos(n: number): { designation: string; description?: string; image: string }[] {
  const { products } = loadRakutenDataset(benchDataDir());
  return products
    .filter((e) => e.imagePath && existsSync(e.imagePath))
    .slice(0, n)
    .map(({ designation, description, imagePath }) => ({
      designation,
      ...(description && { description }),
      image: readFileSync(imagePath!).toString('base64'),
    }));
}

/** Runs autocannon and keeps every response's latency by outcome (its own summary mixes them). */
async function load(
  target: Target,
  requests: autocannon.Request[],
  connections: number,
  duration: number,
): Promise<Phase> {
  // Reading the event-loop delay resets the API's histogram, so that the phase's figures are its own.
  if (target.api) await eventLoopDelay(target.base);
  const phase: Phase = { seconds: duration, answered: [], shed: [], other: 0, errors: 0, timeouts: 0 };
  await new Promise<void>((done, fail) => {
    const instance = autocannon(
      { url: target.base, connections, duration, requests, timeout: 10 },
      (error, result) => {
        if (error) return fail(error);
        phase.errors = result.errors - result.timeouts;
        phase.timeouts = result.timeouts;
        done();
      },
    );
    instance.on('response', (_client, status, _bytes, ms) => {
      if (status >= 200 && status < 300) phase.answered.push(ms);
      else if (status === 503) phase.shed.push(ms);
      else phase.other++;
    });
  });
  return phase;
}

function summary(latencies: number[]): string {
  if (latencies.length === 0) return 'none';
  const sorted = Float64Array.from(latencies).sort();
  const at = (p: number) => percentile(sorted as unknown as number[], p).toFixed(1);
  return `p50 ${at(50)} ms, p90 ${at(90)} ms, p99 ${at(99)} ms, max ${sorted[sorted.length - 1].toFixed(1)} ms`;
}

async function report(title: string, phase: Phase, itemsPerRequest: number, target: Target): Promise<void> {
  const rps = phase.answered.length / phase.seconds;
  console.log(`${title}:`);
  console.log(
    `  ${rps.toFixed(0)} answered requests/s (${(rps * itemsPerRequest).toFixed(0)} items/s), ` +
      `${summary(phase.answered)}`,
  );
  if (phase.shed.length > 0) {
    console.log(
      `  shed (503): ${phase.shed.length} (${(phase.shed.length / phase.seconds).toFixed(0)}/s), ${summary(phase.shed)}`,
    );
  }
  console.log(`  other non-2xx ${phase.other}, errors ${phase.errors}, timeouts ${phase.timeouts}`);
  if (target.api) console.log(`  API event-loop delay: ${await eventLoopDelay(target.base)}`);
}

/** The API's event-loop delay since the last read (prom-client resets its histogram at each scrape). */
async function eventLoopDelay(base: string): Promise<string> {
  const page = await (await fetch(`${base}/metrics`)).text();
  const ms = (name: string) =>
    (Number(new RegExp(`^nodejs_eventloop_lag_${name}_seconds (\\S+)$`, 'm').exec(page)?.[1]) * 1000).toFixed(
      1,
    );
  return `p50 ${ms('p50')} ms, p99 ${ms('p99')} ms, max ${ms('max')} ms`;
}

async function post(target: Target, path: string, body: unknown): Promise<void> {
  const res = await fetch(`${target.base}${path}`, {
    method: 'POST',
    headers: target.headers,
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
}

/** An access token from the OAuth2 password grant, as a real client would get one. */
async function accessToken(base: string, username: string, password: string): Promise<string> {
  const res = await fetch(`${base}/v1/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', username, password }).toString(),
  });
  if (!res.ok) throw new Error(`token endpoint: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

async function countStored(dataSource: DataSource): Promise<number> {
  const [{ n }] = await dataSource.query('SELECT COUNT(*) AS n FROM predictions');
  return Number(n);
}

/** Items the API classified, once its write-behind buffer is empty (from its own /metrics). */
async function answeredByApi(base: string): Promise<number> {
  for (;;) {
    const text = await (await fetch(`${base}/metrics`)).text();
    const pending = Number(/^prediction_records_pending (\S+)$/m.exec(text)?.[1] ?? NaN);
    if (pending === 0) {
      return [...text.matchAll(/^predictions_total\{[^}]*\} (\S+)$/gm)].reduce(
        (sum, m) => sum + Number(m[1]),
        0,
      );
    }
    await new Promise((done) => setTimeout(done, 200));
  }
}

/** Resident memory of the API process (Linux), to see that retired models are released. */
function residentMiB(child: ChildProcess): number {
  const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
  return Math.round(Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) / 1024);
}

async function waitForReady(url: string, child: ChildProcess): Promise<void> {
  // The peer trains its model on first start: give it time.
  const deadline = Date.now() + 300_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${url}: the server exited with code ${child.exitCode}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((done) => setTimeout(done, 250));
  }
  throw new Error(`${url} did not become ready within 5 minutes`);
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((done) => {
    if (child.exitCode !== null || child.signalCode !== null) return done();
    child.once('exit', () => done());
    child.kill('SIGTERM');
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
