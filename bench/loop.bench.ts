/**
 * npm run bench:loop: does the feedback loop bring live F1 back? On the shared Rakuten data, a first model is trained
 * on a base set that lacks some categories entirely; then the rest of the data is streamed through the running
 * service as predictions, each followed by its true label as feedback, at a steady rate. Once live F1 stays under
 * the threshold, Prometheus fires ModelF1BelowThreshold (the repository's rule, with a short `for`), Alertmanager
 * (the repository's routing, short timings) calls the webhook, the worker retrains on the base set plus the labels,
 * and the API swaps. The same stream is then sent to a service whose loop is off (no alert name retrains).
 *
 * Real processes: the API and the worker (ts-node) on PostgreSQL (a fresh schema per run), Redis (a queue prefix per
 * run) and s3rver; Prometheus and Alertmanager from apt. Text only (the base folder has no photos), so both models
 * are text models. Prints live weighted F1 over the stream, when the alert fired, when the job was queued and the new
 * version served, and F1 before and after, for both runs; one JSON summary line on stdout; writes the chart to
 * docs/bench/loop.svg and the figures to docs/bench/loop.json.
 *
 * BENCH_STREAM (2400) products streamed, BENCH_RATE (10) per second, BENCH_HELD (5) categories missing from the base,
 * BENCH_THRESHOLD (0.62) LIVE_F1_THRESHOLD, BENCH_SMOKE=1 a short stream and quick models to check the bench itself,
 * BENCH_DEADLINE_S (1500) bounds the run, BENCH_VERBOSE=1 shows the processes' logs.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Queue } from 'bullmq';
import { freePorts, productionSettings, waitFor, waitUntilAnswering } from '@app/config/testing';
import { createPostgresTestSchema } from '@app/database/testing';
import { startLocalMonitoring } from '@app/metrics/testing';
import { RETRAINING_QUEUE } from '@app/queue';
import { startS3rver } from '@app/storage/testing';
import {
  benchApi,
  benchDataDir,
  BenchProcesses,
  f1Chart,
  heldOutSplit,
  writeProductsCsv,
  type BenchProduct,
} from './bench.util';

const ROOT = resolve(__dirname, '..');
const SMOKE = process.env.BENCH_SMOKE === '1';
const STREAM = Number(process.env.BENCH_STREAM ?? (SMOKE ? 900 : 2400));
const RATE = Number(process.env.BENCH_RATE ?? (SMOKE ? 20 : 10));
const HELD = Number(process.env.BENCH_HELD ?? 5);
const THRESHOLD = Number(process.env.BENCH_THRESHOLD ?? 0.62);
const DEADLINE_MS = Number(process.env.BENCH_DEADLINE_S ?? 1500) * 1000;
const WINDOW = SMOKE ? 80 : 200;
const MIN_SAMPLES = SMOKE ? 40 : 100;
/** Labels follow their predictions by this long, as a person's report would. */
const LABEL_DELAY_MS = 1000;
const QUICK = { neuralModels: 0, linearViews: ['merged'], withImages: false };
const FIRST_PARAMS = SMOKE ? QUICK : {};

const started = performance.now();
const clock = (): number => (performance.now() - started) / 1000;
const progress = (line: string): void => console.error(`[bench:loop ${clock().toFixed(1)} s] ${line}`);
const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

interface Sample {
  /** Seconds since the stream started. */
  t: number;
  /** Products sent so far. */
  sent: number;
  version: string;
  f1: number | null;
  samples: number;
}

interface RunResult {
  loop: boolean;
  firstVersion: string;
  samples: Sample[];
  alertFiredAt: number | null;
  jobQueuedAt: number | null;
  servedAt: number | null;
  newVersion: string | null;
  f1Before: number | null;
  f1After: number | null;
  afterSamples: number;
}

const processes = new BenchProcesses();

async function runService(
  loop: boolean,
  dataDir: string,
  stream: BenchProduct[],
  root: string,
): Promise<RunResult> {
  const schema = await createPostgresTestSchema();
  const s3 = await startS3rver('models');
  const queuePrefix = `bench-loop-${randomUUID()}`;
  const admin = { username: 'bench-admin', password: randomBytes(12).toString('hex') };
  const webhookToken = randomBytes(16).toString('hex');
  const [apiPort, workerPort] = await freePorts(2);
  const api = `http://127.0.0.1:${apiPort}`;
  const run = join(root, loop ? 'loop-on' : 'loop-off');
  mkdirSync(run, { recursive: true });
  const env: Record<string, string> = {
    ...productionSettings(schema, s3, queuePrefix),
    JWT_SECRET: randomBytes(32).toString('hex'),
    ADMIN_USERNAME: admin.username,
    ADMIN_PASSWORD: admin.password,
    ALERTMANAGER_WEBHOOK_TOKEN: webhookToken,
    BOOTSTRAP_MODEL: 'off',
    MODEL_POLL_INTERVAL_MS: '500',
    RATE_LIMIT_PER_MINUTE: '0',
    IP_RATE_LIMIT_PER_MINUTE: '0',
    LIVE_REFRESH_SECONDS: '2',
    LIVE_WINDOW_SIZE: String(WINDOW),
    LIVE_MIN_SAMPLES: String(MIN_SAMPLES),
    LIVE_F1_THRESHOLD: String(THRESHOLD),
    // The first model is a retraining too; the run must not wait an hour for the alert's.
    RETRAINING_COOLDOWN_MINUTES: '0',
    // Off: no alert name retrains, so the webhook only records.
    RETRAINING_ALERTS: loop ? 'ModelF1BelowThreshold' : 'LoopIsOff',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
  };
  try {
    const apiProcess = processes.node('api', 'apps/api/src/main.ts', {
      ...env,
      PORT: String(apiPort),
      VAR_DIR: join(run, 'api'),
    });
    processes.node('worker', 'apps/worker/src/main.ts', {
      ...env,
      LOG_LEVEL: 'log',
      WORKER_PORT: String(workerPort),
      VAR_DIR: join(run, 'worker'),
    });
    await waitUntilAnswering(apiProcess, `${api}/health/live`, 120_000);
    const { call } = await benchApi(api, admin);

    progress(`${loop ? 'loop on' : 'loop off'}: training the first model on the base set`);
    const first = await call<{ id: string }>('/v1/retraining-jobs', {
      reason: 'first model (bench:loop)',
      params: FIRST_PARAMS,
    });
    const firstVersion = await waitFor(
      'the first model',
      async () => {
        const job = await call<{ state: string; resultVersion: string | null }>(
          `/v1/retraining-jobs/${first.id}`,
        );
        if (job.state === 'failed') throw new Error('the first model failed');
        return job.state === 'succeeded' ? job.resultVersion! : undefined;
      },
      600_000,
    );
    await waitFor(
      `the API to serve ${firstVersion}`,
      async () =>
        (await call<{ modelVersion: string }>('/v1/predictions', { designation: 'x' })).modelVersion ===
        firstVersion
          ? true
          : undefined,
      60_000,
    );
    // The repository's rule (a short `for`) and routing (short timings), pointed at this API.
    const monitoring = await startLocalMonitoring(
      {
        dir: run,
        api,
        webhookToken,
        alertFor: '10s',
        repeatInterval: '5s',
      },
      processes.showing,
    );
    monitoring.processes.forEach((service) => processes.add(service));

    const result: RunResult = {
      loop,
      firstVersion,
      samples: [],
      alertFiredAt: null,
      jobQueuedAt: null,
      servedAt: null,
      newVersion: null,
      f1Before: null,
      f1After: null,
      afterSamples: 0,
    };
    const streamStart = performance.now();
    const t = () => (performance.now() - streamStart) / 1000;
    let sent = 0;
    let serving = firstVersion;
    const labelling: Promise<unknown>[] = [];
    const watch = (async () => {
      while (sent < stream.length) {
        await sleep(2000);
        const live = await call<{
          versions: { modelVersion: string; weightedF1: number; samples: number }[];
        }>('/v1/monitoring/live').catch(() => undefined);
        const current = live?.versions.find((v) => v.modelVersion === serving);
        result.samples.push({
          t: t(),
          sent,
          version: serving,
          f1: current?.weightedF1 ?? null,
          samples: current?.samples ?? 0,
        });
        if (result.alertFiredAt === null) {
          const firing = await monitoring.firingAlerts().catch(() => []);
          if (firing.some((a) => a.labels.alertname === 'ModelF1BelowThreshold')) {
            result.alertFiredAt = t();
            result.f1Before = current?.weightedF1 ?? null;
            progress(
              `alert fired at ${t().toFixed(1)} s (live F1 of ${serving}: ${result.f1Before?.toFixed(3)})`,
            );
          }
        }
        if (result.jobQueuedAt === null && loop) {
          const jobs = await call<{ trigger: string }[]>('/v1/retraining-jobs').catch(() => []);
          if (jobs.some((j) => j.trigger.startsWith('alert:'))) result.jobQueuedAt = t();
        }
        progress(
          `${sent}/${stream.length} sent, ${serving}: F1 ${current?.weightedF1?.toFixed(3) ?? '-'} on ${current?.samples ?? 0} labels`,
        );
      }
    })();
    const batch = Math.max(1, Math.round(RATE / 4));
    while (sent < stream.length) {
      const tick = performance.now();
      const items = stream.slice(sent, sent + batch);
      const answer = await call<{ modelVersion: string; predictions: { id: string }[] }>(
        '/v1/predictions/batch',
        {
          items: items.map((p) => ({ designation: p.designation, description: p.description })),
        },
      );
      if (answer.modelVersion !== serving) {
        serving = answer.modelVersion;
        result.servedAt = t();
        result.newVersion = serving;
        progress(`${serving} served at ${t().toFixed(1)} s`);
      }
      sent += items.length;
      labelling.push(
        sleep(LABEL_DELAY_MS).then(() =>
          call('/v1/feedback/batch', {
            items: answer.predictions.map((p, i) => ({
              predictionId: p.id,
              prdtypecode: items[i].prdtypecode,
            })),
          }),
        ),
      );
      await sleep(Math.max(0, 250 - (performance.now() - tick)));
    }
    await Promise.all(labelling);
    await watch;
    await sleep(2500);
    const live = await call<{ versions: { modelVersion: string; weightedF1: number; samples: number }[] }>(
      '/v1/monitoring/live',
    );
    const last = live.versions.find((v) => v.modelVersion === serving);
    result.samples.push({
      t: t(),
      sent,
      version: serving,
      f1: last?.weightedF1 ?? null,
      samples: last?.samples ?? 0,
    });
    result.f1After = last?.weightedF1 ?? null;
    result.afterSamples = last?.samples ?? 0;
    return result;
  } finally {
    processes.stopAll();
    const queue = new Queue(RETRAINING_QUEUE, {
      connection: { host: '127.0.0.1', port: 6379 },
      prefix: queuePrefix,
    });
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    await Promise.all([schema.drop(), s3.stop()]);
  }
}

/** Live F1 over the stream, loop on and off, with the threshold and the alert and swap markers. */
function chart(on: RunResult, off: RunResult): string {
  const [w, h, left, top, right, bottom] = [720, 360, 56, 24, 16, 44];
  const maxT = Math.max(...[...on.samples, ...off.samples].map((s) => s.t), 1);
  const { y, frame, points, marker } = f1Chart({ width: w, height: h, left, top, right, bottom, xMax: maxT });
  const line = (r: RunResult) =>
    points(r.samples.filter((s) => s.f1 !== null && s.samples >= MIN_SAMPLES / 2).map((s) => [s.t, s.f1!]));
  return `${frame}
<text x="${(w + left) / 2}" y="${h - 10}" font-size="12" text-anchor="middle">seconds of streaming (${RATE} products/s, each labelled ${LABEL_DELAY_MS / 1000} s later)</text>
<text x="14" y="${(h + top) / 2}" font-size="12" transform="rotate(-90 14 ${(h + top) / 2})" text-anchor="middle">live weighted F1 (serving version)</text>
<line x1="${left}" y1="${y(THRESHOLD)}" x2="${w - right}" y2="${y(THRESHOLD)}" stroke="#c00" stroke-dasharray="6,4"/>
<text x="${w - right - 4}" y="${y(THRESHOLD) - 4}" font-size="11" fill="#c00" text-anchor="end">threshold ${THRESHOLD}</text>
${marker(on.alertFiredAt, 'alert fired', '#c60')}
${marker(on.servedAt, 'new version served', '#080')}
<polyline fill="none" stroke="#888" stroke-width="2" points="${line(off)}"/>
<polyline fill="none" stroke="#06c" stroke-width="2" points="${line(on)}"/>
<text x="${left + 8}" y="${h - bottom - 24}" font-size="12" fill="#06c">loop on</text>
<text x="${left + 8}" y="${h - bottom - 8}" font-size="12" fill="#888">loop off</text>
</svg>
`;
}

async function main(): Promise<void> {
  const split = heldOutSplit(benchDataDir(), HELD);
  const { base, held } = split;
  const stream = split.rest.slice(0, STREAM);
  const root = mkdtempSync(join(tmpdir(), 'bench-loop-'));
  try {
    writeProductsCsv(join(root, 'base'), base);
    progress(
      `base: ${base.length} products without categories ${held.join(', ')}; stream: ${stream.length} products`,
    );
    const on = await runService(true, join(root, 'base'), stream, root);
    const off = await runService(false, join(root, 'base'), stream, root);
    const fmt = (v: number | null) => (v === null ? '-' : v.toFixed(3));
    const s = (v: number | null) => (v === null ? '-' : `${v.toFixed(1)} s`);
    console.log(
      `bench:loop${SMOKE ? ' (smoke)' : ''}: base ${base.length} products (without ${held.join(', ')}), stream ${stream.length} at ${RATE}/s`,
    );
    console.log(
      `loop on : alert fired ${s(on.alertFiredAt)}, job queued ${s(on.jobQueuedAt)}, ${on.newVersion ?? 'no new version'} served ${s(on.servedAt)}`,
    );
    console.log(
      `          live F1 ${fmt(on.f1Before)} (${on.firstVersion}, at the alert) -> ${fmt(on.f1After)} (${on.newVersion ?? on.firstVersion}, ${on.afterSamples} labels at the end)`,
    );
    console.log(
      `loop off: alert fired ${s(off.alertFiredAt)}, live F1 at the end ${fmt(off.f1After)} (${off.firstVersion}, ${off.afterSamples} labels)`,
    );
    const summary = {
      smoke: SMOKE,
      base: base.length,
      held,
      stream: stream.length,
      rate: RATE,
      threshold: THRESHOLD,
      window: WINDOW,
      minSamples: MIN_SAMPLES,
      firstParams: FIRST_PARAMS,
      loopOn: on,
      loopOff: off,
    };
    mkdirSync(join(ROOT, 'docs/bench'), { recursive: true });
    writeFileSync(join(ROOT, 'docs/bench/loop.json'), `${JSON.stringify(summary, null, 2)}\n`);
    writeFileSync(join(ROOT, 'docs/bench/loop.svg'), chart(on, off));
    console.log(
      JSON.stringify({
        ...summary,
        loopOn: { ...on, samples: on.samples.length },
        loopOff: { ...off, samples: off.samples.length },
      }),
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

processes.run('bench:loop', DEADLINE_MS, main);
