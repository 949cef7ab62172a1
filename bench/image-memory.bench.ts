/**
 * Resident memory of the API process (a child on the embedded drivers, serving the fixture model, which has an
 * image part) before, during and after bursts of large images: images no photo has (hundreds of megapixels,
 * small on disk), then images just within the default limits, as concurrent single requests and as one batch.
 * Prints numbers; asserts nothing.
 *
 *   npx ts-node -T -r tsconfig-paths/register bench/image-memory.bench.ts
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { AppConfig } from '@app/config';
import { openDataSource } from '@app/database';
import { trainFixtureModel } from '@app/ml/testing';
import { ModelRegistry } from '@app/registry';
import { createArtifactStore } from '@app/storage';

const PORT = Number(process.env.BENCH_PORT ?? 3918);
const BASE = `http://127.0.0.1:${PORT}`;
/** Generated once (encoding them takes a while), reused by later runs. */
const IMAGE_DIR = join(tmpdir(), 'image-memory-bench');
/** Requests sent at once in each burst. */
const BURST = Number(process.env.BENCH_BURST ?? 8);

interface ImageSpec {
  name: string;
  width: number;
  height: number;
  encode: (image: sharp.Sharp) => sharp.Sharp;
}

const HOSTILE: ImageSpec[] = [
  { name: 'png-16000x16000', width: 16_000, height: 16_000, encode: (i) => i.png({ compressionLevel: 9 }) },
  { name: 'png-200000x1000', width: 200_000, height: 1000, encode: (i) => i.png({ compressionLevel: 9 }) },
  {
    name: 'jpeg-progressive-16000x16000',
    width: 16_000,
    height: 16_000,
    encode: (i) => i.jpeg({ progressive: true }),
  },
  { name: 'webp-16383x16383', width: 16_383, height: 16_383, encode: (i) => i.webp({ lossless: true }) },
];

const AT_THE_LIMIT: ImageSpec[] = [
  {
    name: 'png-interlaced-7000x7000',
    width: 7000,
    height: 7000,
    encode: (i) => i.png({ progressive: true }),
  },
  { name: 'png-12000x4000', width: 12_000, height: 4000, encode: (i) => i.png() },
  {
    name: 'jpeg-progressive-7000x7000',
    width: 7000,
    height: 7000,
    encode: (i) => i.jpeg({ progressive: true }),
  },
  { name: 'webp-7000x7000', width: 7000, height: 7000, encode: (i) => i.webp({ lossless: true }) },
];

async function image(spec: ImageSpec): Promise<Buffer> {
  const path = join(IMAGE_DIR, spec.name);
  if (existsSync(path)) return readFileSync(path);
  const created = sharp({
    create: { width: spec.width, height: spec.height, channels: 3, background: { r: 200, g: 30, b: 90 } },
    limitInputPixels: false,
  });
  const bytes = await spec.encode(created).toBuffer();
  mkdirSync(IMAGE_DIR, { recursive: true });
  writeFileSync(path, bytes);
  return bytes;
}

async function main(): Promise<void> {
  const varDir = mkdtempSync(join(tmpdir(), 'bench-image-memory-'));
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    VAR_DIR: varDir,
    PORT: String(PORT),
    BOOTSTRAP_MODEL: 'off',
    LOG_LEVEL: 'error',
    JWT_SECRET: randomBytes(32).toString('hex'),
    ADMIN_USERNAME: 'bench-admin',
    ADMIN_PASSWORD: randomBytes(16).toString('hex'),
    RATE_LIMIT_PER_MINUTE: '0',
    IP_RATE_LIMIT_PER_MINUTE: '0',
    MAX_BODY_BYTES: String(64 * 1024 * 1024),
    MAX_IMAGE_BYTES: String(32 * 1024 * 1024),
  };
  const config = AppConfig.fromEnvironment(env);
  const dataSource = await openDataSource(config);
  const registry = new ModelRegistry(dataSource, createArtifactStore(config));
  const { version } = await registry.register(await trainFixtureModel(), {
    createdBy: 'bench',
    source: 'bench',
  });
  await registry.promote(version, { actor: 'bench' });
  await dataSource.destroy();

  const hostile = await Promise.all(HOSTILE.map(image));
  const atTheLimit = await Promise.all(AT_THE_LIMIT.map(image));
  for (const [spec, bytes] of [...HOSTILE, ...AT_THE_LIMIT].map(
    (s, i) => [s, [...hostile, ...atTheLimit][i]] as const,
  )) {
    console.log(`${spec.name}: ${(bytes.length / 1024).toFixed(0)} KiB on disk`);
  }

  const api = spawn(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', 'apps/api/src/main.ts'],
    { cwd: resolve(__dirname, '..'), env, stdio: ['ignore', 'inherit', 'inherit'] },
  );
  try {
    await waitForReady();
    const token = await accessToken(env.ADMIN_USERNAME, env.ADMIN_PASSWORD);
    const predict = (path: string, body: unknown) =>
      fetch(`${BASE}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(body),
      }).then(
        async (res) =>
          `${res.status}${res.ok ? '' : ` ${((await res.json()) as { message: string }).message}`}`,
      );
    const single = (bytes: Buffer) => () =>
      predict('/v1/predictions', { designation: 'bâche', image: bytes.toString('base64') });

    console.log(`API resident at rest: ${residentMiB(api)} MiB`);
    await burst(
      api,
      `${BURST} concurrent requests, images no photo has`,
      hostile.flatMap((b) => Array(BURST / 4).fill(single(b))),
    );
    await burst(
      api,
      `${BURST} concurrent requests, images within the default limits`,
      atTheLimit.flatMap((b) => Array(BURST / 4).fill(single(b))),
    );
    await burst(api, 'one batch of the four images within the limits, twice', [
      () =>
        predict('/v1/predictions/batch', {
          items: [...atTheLimit, ...atTheLimit].map((b) => ({ image: b.toString('base64') })),
        }),
    ]);
  } finally {
    await stop(api);
    rmSync(varDir, { recursive: true, force: true });
  }
}

/** Sends the requests at once and prints the API's resident memory before, at its peak, and 2 s after. */
async function burst(api: ChildProcess, title: string, requests: (() => Promise<string>)[]): Promise<void> {
  const before = residentMiB(api);
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, residentMiB(api))), 10);
  const started = Date.now();
  const answers = await Promise.all(requests.map((send) => send()));
  const seconds = (Date.now() - started) / 1000;
  await new Promise((done) => setTimeout(done, 2000));
  clearInterval(sampler);
  const counts = new Map<string, number>();
  for (const answer of answers) counts.set(answer.slice(0, 60), (counts.get(answer.slice(0, 60)) ?? 0) + 1);
  console.log(`${title}: ${seconds.toFixed(1)} s`);
  for (const [answer, n] of counts) console.log(`  ${n} × ${answer}`);
  console.log(`  resident before ${before} MiB, peak ${peak} MiB, 2 s after ${residentMiB(api)} MiB`);
}

async function accessToken(username: string, password: string): Promise<string> {
  const res = await fetch(`${BASE}/v1/auth/token`, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'password', username, password }),
  });
  if (!res.ok) throw new Error(`token endpoint: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

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
