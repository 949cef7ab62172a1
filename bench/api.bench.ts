/**
 * npm run bench:api: load from autocannon against a running API (a child process on the embedded drivers)
 * serving the bench model. Prints single-prediction throughput and latency at concurrency 32, batch throughput,
 * and failures while the production model is promoted and rolled back under load; checks every answered
 * prediction was stored. BENCH_PHASES=photo (not in the default phases) measures text + photo predictions (JSON, the
 * photo as base64; the backbone runs in IMAGE_FEATURE_THREADS threads) one at a time and at concurrency 4.
 */
import autocannon, { type Result } from 'autocannon';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AppConfig } from '@app/config';
import { openDataSource } from '@app/database';
import { loadRakutenDataset } from '@app/ml';
import { ModelRegistry } from '@app/registry';
import { createArtifactStore } from '@app/storage';
import { BENCH_MODEL_DIR, benchDataDir } from './bench-support';

const PORT = Number(process.env.BENCH_PORT ?? 3917);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const BASE = `http://127.0.0.1:${PORT}`;
/** Which parts to run, e.g. BENCH_PHASES=batch to profile the batch endpoint alone. */
const PHASES = new Set((process.env.BENCH_PHASES ?? 'single,batch,swap').split(','));

async function main(): Promise<void> {
  if (!existsSync(join(BENCH_MODEL_DIR, 'model.json'))) {
    console.error(`No model at ${BENCH_MODEL_DIR}: run "npm run bench:train" first`);
    process.exit(1);
  }
  const varDir = mkdtempSync(join(tmpdir(), 'bench-api-'));
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    VAR_DIR: varDir,
    PORT: String(PORT),
    BOOTSTRAP_MODEL: 'off',
    LOG_LEVEL: 'warn',
    MODEL_POLL_INTERVAL_MS: '1000',
    JWT_SECRET: randomBytes(32).toString('hex'),
    ADMIN_USERNAME: 'bench-admin',
    ADMIN_PASSWORD: randomBytes(16).toString('hex'),
    // The bench measures capacity from one client: per-user and per-address limits would cap it.
    RATE_LIMIT_PER_MINUTE: '0',
    IP_RATE_LIMIT_PER_MINUTE: '0',
  };
  const config = AppConfig.fromEnvironment(env);
  const dataSource = await openDataSource(config);
  const registry = new ModelRegistry(dataSource, createArtifactStore(config));
  const v1 = (await registry.register(BENCH_MODEL_DIR, { createdBy: 'bench', source: 'bench' })).version;
  const v2 = (await registry.register(BENCH_MODEL_DIR, { createdBy: 'bench', source: 'bench' })).version;
  await registry.promote(v1, { actor: 'bench' });

  const api = spawn(
    process.execPath,
    [
      // BENCH_PROFILE=1 writes a CPU profile of the API process to var/bench/profile when it exits.
      ...(process.env.BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir=var/bench/profile'] : []),
      '-r',
      'ts-node/register/transpile-only',
      '-r',
      'tsconfig-paths/register',
      'apps/api/src/main.ts',
    ],
    { cwd: resolve(__dirname, '..'), env, stdio: ['ignore', 'inherit', 'inherit'] },
  );
  try {
    await waitForReady();
    const headers = {
      'content-type': 'application/json',
      authorization: `Bearer ${await accessToken(env.ADMIN_USERNAME, env.ADMIN_PASSWORD)}`,
    };
    const texts = sampleTexts(500);
    const single = texts.map((t) => ({
      method: 'POST' as const,
      path: '/v1/predictions',
      headers,
      body: JSON.stringify(t),
    }));

    await load('warm-up', single, 4, 3);
    if (PHASES.has('single')) {
      report('single text predictions, concurrency 32', await load('single', single, 32, SECONDS), 1);
    }

    const batches = Array.from({ length: 8 }, (_, b) => ({
      method: 'POST' as const,
      path: '/v1/predictions/batch',
      headers,
      body: JSON.stringify({
        items: texts
          .slice(b * 60, b * 60 + 256)
          .concat(texts)
          .slice(0, 256),
      }),
    }));
    if (PHASES.has('batch')) {
      report('batches of 256 text items, concurrency 4', await load('batch', batches, 4, SECONDS), 256);
    }
    if (PHASES.has('swap')) await swapUnderLoad(single, headers, v2, api);
    if (PHASES.has('photo')) {
      const photos = samplePhotos(100).map((item) => ({
        method: 'POST' as const,
        path: '/v1/predictions',
        headers,
        body: JSON.stringify(item),
      }));
      await load('photo warm-up', photos, 1, 3);
      for (const connections of [1, 4]) {
        report(
          `text + photo predictions, concurrency ${connections}`,
          await load('photo', photos, connections, SECONDS),
          1,
        );
      }
    }

    // A request still in flight when autocannon stops is answered but not counted by it: compare with the API's
    // own count instead.
    const answered = await answeredByApi();
    const stored = await countStored(dataSource);
    console.log(
      `every prediction stored: ${stored === answered ? 'yes' : 'NO'} (answered ${answered}, stored ${stored})`,
    );
  } finally {
    await stop(api);
    await dataSource.destroy();
    rmSync(varDir, { recursive: true, force: true });
  }
}

/** Promotes and rolls back 10 times while single predictions run; reports failures and memory. */
async function swapUnderLoad(
  single: autocannon.Request[],
  headers: Record<string, string>,
  v2: string,
  api: ChildProcess,
): Promise<void> {
  const rssBeforeSwaps = residentMiB(api);
  const swapping = load('swap', single, 32, Math.max(SECONDS, 15));
  let swaps = 0;
  const swapStarted = Date.now();
  while (swaps < 10) {
    await post(`/v1/models/${v2}/promote`, headers, { reason: `bench swap ${swaps}` });
    await post('/v1/models/rollback', headers, { reason: `bench rollback ${swaps}` });
    swaps++;
  }
  const swapSeconds = (Date.now() - swapStarted) / 1000;
  const swapResult = await swapping;
  report('single text predictions during 10 promotions + 10 rollbacks', swapResult, 1);
  console.log(
    `  swaps took ${swapSeconds.toFixed(1)} s; failed requests: ${swapResult.non2xx + swapResult.errors}; ` +
      `API resident memory ${rssBeforeSwaps} MiB before the swaps, ${residentMiB(api)} MiB after`,
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

function load(
  title: string,
  requests: autocannon.Request[],
  connections: number,
  duration: number,
): Promise<Result> {
  return new Promise((done, fail) => {
    autocannon({ url: BASE, connections, duration, requests, timeout: 10 }, (error, result) =>
      error ? fail(error) : done(result),
    );
  });
}

function report(title: string, result: Result, itemsPerRequest: number): void {
  const rps = result.requests.average;
  console.log(`${title}:`);
  console.log(
    `  ${rps.toFixed(0)} requests/s (${(rps * itemsPerRequest).toFixed(0)} items/s), latency p50 ${result.latency.p50} ms, ` +
      `p99 ${result.latency.p99} ms, max ${result.latency.max} ms; non-2xx ${result.non2xx}, errors ${result.errors}, timeouts ${result.timeouts}`,
  );
}

async function post(path: string, headers: Record<string, string>, body: unknown): Promise<void> {
  const res = await fetch(`${BASE}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
}

/** An access token from the OAuth2 password grant, as a real client would get one. */
async function accessToken(username: string, password: string): Promise<string> {
  const res = await fetch(`${BASE}/v1/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', username, password }).toString(),
  });
  if (!res.ok) throw new Error(`token endpoint: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

async function countStored(dataSource: Awaited<ReturnType<typeof openDataSource>>): Promise<number> {
  const [{ n }] = await dataSource.query('SELECT COUNT(*) AS n FROM predictions');
  return Number(n);
}

/** Items the API classified, once its write-behind buffer is empty (from its own /metrics). */
async function answeredByApi(): Promise<number> {
  for (;;) {
    const text = await (await fetch(`${BASE}/metrics`)).text();
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

async function waitForReady(): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${BASE}/health/ready`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((done) => setTimeout(done, 250));
  }
  throw new Error('the API did not become ready within 2 minutes');
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((done) => {
    if (child.exitCode !== null) return done();
    child.once('exit', () => done());
    child.kill('SIGTERM');
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
