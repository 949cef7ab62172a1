/**
 * npm run bench:drift: does the drift watch see a shifted catalogue before the labels do, without false alarms on
 * unchanged traffic, and what does it cost? On the shared Rakuten data, a first model is trained (with its held-out
 * calibration slice and the drift reference written at training time) on a base set that lacks the most common
 * categories, registered and promoted on PostgreSQL. Then, through real API processes watched by the repository's
 * Prometheus rules and Alertmanager routing (short `for:` and group timings):
 *  - cost: single-item predictions against an API with the watch on and one with it off, alternating rounds;
 *  - stream A: products of the base distribution the model did not train on (cycled to BENCH_STREAM): no drift
 *    alert should fire, and the estimated weighted F1 should stay close to the true F1 of the same predictions;
 *  - stream B: the other half of the data with every category (the held ones the model never saw): predictions
 *    until ModelDrift fires and until ModelF1BelowThreshold fires (labels arrive for BENCH_AUDIT of the
 *    predictions, 1 s later, as audits would), and the estimated against the true F1 along the stream.
 * Prints the figures and one JSON line; writes docs/bench/drift.json and docs/bench/drift.svg.
 *
 * BENCH_STREAM (3000) predictions per stream, BENCH_RATE (60) per second, BENCH_HELD (5) categories missing from the
 * base (the streams leave out near-duplicates of training titles, as the calibration slice does), BENCH_AUDIT (0.1) share of predictions labelled, BENCH_WINDOW (500) DRIFT_WINDOW, BENCH_MIN_WINDOW (200),
 * BENCH_COST_REQUESTS (1500) per round, BENCH_DEADLINE_S (1200), BENCH_VERBOSE=1 shows the processes' logs.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AppConfig } from '@app/config';
import { freePorts, waitUntilAnswering } from '@app/config/testing';
import { openDataSource } from '@app/database';
import { DriftMonitor } from '@app/drift';
import { createPostgresTestSchema } from '@app/database/testing';
import {
  DEFAULT_TRAIN_OPTIONS,
  designationKey,
  evaluateClassification,
  InputVocabulary,
  loadTrainingData,
  type ProductClassifier,
  SeededRandom,
  trainingDocuments,
  trainProductClassifier,
} from '@app/ml';
import { startLocalMonitoring, type LocalMonitoring } from '@app/metrics/testing';
import { ModelRegistry } from '@app/registry';
import { LocalArtifactStore } from '@app/storage';
import {
  benchApi,
  benchDataDir,
  BenchProcesses,
  f1Chart,
  heldOutSplit,
  writeProductsCsv,
  type BenchApi,
  type BenchProduct,
} from './bench.util';

const ROOT = resolve(__dirname, '..');
const STREAM = Number(process.env.BENCH_STREAM ?? 3000);
const RATE = Number(process.env.BENCH_RATE ?? 60);
const HELD = Number(process.env.BENCH_HELD ?? 5);
const AUDIT = Number(process.env.BENCH_AUDIT ?? 0.1);
const WINDOW = Number(process.env.BENCH_WINDOW ?? 500);
const MIN_WINDOW = Number(process.env.BENCH_MIN_WINDOW ?? 200);
const COST_REQUESTS = Number(process.env.BENCH_COST_REQUESTS ?? 1500);
const COST_ROUNDS = 3;
const COST_CONCURRENCY = 8;
const DEADLINE_MS = Number(process.env.BENCH_DEADLINE_S ?? 1200) * 1000;
const LIVE_WINDOW = 200;
const LIVE_MIN_SAMPLES = 100;
const ALERT_FOR = '5s';
const LABEL_DELAY_MS = 1000;
const TRAIN_PARAMS = {
  ...DEFAULT_TRAIN_OPTIONS,
  withImages: false,
  calibrationFraction: 0.25,
  text: { neuralModels: 0, linearViews: ['merged' as const] },
};

const started = performance.now();
const clock = (): number => (performance.now() - started) / 1000;
const progress = (line: string): void => console.error(`[bench:drift ${clock().toFixed(1)} s] ${line}`);
const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

interface Sample {
  stream: 'A' | 'B';
  /** Predictions of this stream sent so far. */
  sent: number;
  estimatedF1: number | null;
  /** Weighted F1 of the same predictions the window holds (the last DRIFT_WINDOW), from their labels. */
  trueF1: number | null;
  windowPredictions: number;
}

interface StreamResult {
  predictions: number;
  driftAlertAt: number | null;
  driftSignals: string[];
  liveAlertAt: number | null;
  boostSeenAt: number | null;
  finalEstimatedF1: number | null;
  finalTrueF1: number | null;
  /** Mean |estimated - true| over the samples taken once the window was full. */
  meanAbsoluteError: number | null;
}

const processes = new BenchProcesses();

/** bench:loop's split, the streams cycled to STREAM: in distribution (no held category) and shifted (all). */
function splitData(dataDir: string): {
  base: BenchProduct[];
  inDistribution: BenchProduct[];
  shifted: BenchProduct[];
  held: number[];
} {
  const { base, rest: otherHalf, held } = heldOutSplit(dataDir, HELD);
  // Like the calibration slice the reference comes from (near-duplicate titles never straddle it and the training
  // rows), the streams hold no product whose title nearly repeats one the model trained on.
  const seen = new Set(base.map((p) => designationKey(p.designation)));
  const rest = otherHalf.filter((p) => !seen.has(designationKey(p.designation)));
  const cycle = (rows: BenchProduct[]) => Array.from({ length: STREAM }, (_, i) => rows[i % rows.length]);
  return {
    base,
    inDistribution: cycle(rest.filter((p) => !held.includes(p.prdtypecode))),
    shifted: cycle(rest),
    held,
  };
}

interface DriftRoute {
  versions: {
    modelVersion: string;
    predictions: number;
    estimatedF1: number | null;
    referenceF1: number | null;
    referenceEstimatedF1: number | null;
    signals: { signal: string; value: number; threshold: number | null }[];
    auditBoost: { rate: number; until: string } | null;
  }[];
}

/**
 * The watch's own cost without HTTP and its noise: the same texts scored in batches of 16 (as the coalescer groups
 * them) by the model alone, and by the model asked for every class and followed by the watch's observe(), in
 * alternating rounds; microseconds per prediction, medians.
 */
async function inProcessCost(
  classifier: ProductClassifier,
  reference: NonNullable<Awaited<ReturnType<typeof trainProductClassifier>>['driftReference']>,
  products: BenchProduct[],
): Promise<{ offMicros: number; onMicros: number; overheadPercent: number }> {
  const monitor = new DriftMonitor({ window: WINDOW, minWindow: MIN_WINDOW, quantile: 0.99, draws: 400 });
  monitor.track('bench', monitor.build('bench', reference, InputVocabulary.of(classifier)));
  const texts = products.slice(0, 2000).map(({ designation, description }) => ({ designation, description }));
  const time = async (watch: boolean) => {
    const begin = performance.now();
    for (let i = 0; i < texts.length; i += 16) {
      const batch = texts.slice(i, i + 16);
      if (!watch) await classifier.predict(batch, 5);
      else monitor.observe('bench', batch, await classifier.predict(batch, classifier.classes.length));
    }
    return ((performance.now() - begin) * 1000) / texts.length;
  };
  await time(false);
  await time(true);
  const off: number[] = [];
  const on: number[] = [];
  for (let round = 0; round < 5; round++) {
    off.push(await time(false));
    on.push(await time(true));
  }
  const median = (values: number[]) => [...values].sort((p, q) => p - q)[Math.floor(values.length / 2)];
  const [offMicros, onMicros] = [median(off), median(on)];
  return { offMicros, onMicros, overheadPercent: (100 * (onMicros - offMicros)) / offMicros };
}

/** Single-item predictions at a fixed concurrency; returns predictions per second. */
async function throughput(api: BenchApi, texts: BenchProduct[]): Promise<number> {
  let next = 0;
  const begin = performance.now();
  await Promise.all(
    Array.from({ length: COST_CONCURRENCY }, async () => {
      while (next < COST_REQUESTS) {
        const p = texts[next++ % texts.length];
        await api.call('/v1/predictions', { designation: p.designation, description: p.description });
      }
    }),
  );
  return COST_REQUESTS / ((performance.now() - begin) / 1000);
}

/** Streams products at RATE, labelling an AUDIT share, sampling the drift route and the alerts once a second. */
async function stream(
  name: 'A' | 'B',
  api: BenchApi,
  monitoring: LocalMonitoring,
  products: BenchProduct[],
  classes: number[],
  samples: Sample[],
): Promise<StreamResult> {
  const predicted: number[] = [];
  const labels: number[] = [];
  const random = new SeededRandom(name === 'A' ? 11 : 13);
  const result: StreamResult = {
    predictions: products.length,
    driftAlertAt: null,
    driftSignals: [],
    liveAlertAt: null,
    boostSeenAt: null,
    finalEstimatedF1: null,
    finalTrueF1: null,
    meanAbsoluteError: null,
  };
  let sent = 0;
  const labelling: Promise<unknown>[] = [];
  const trueF1 = () => {
    const from = Math.max(0, predicted.length - WINDOW);
    if (predicted.length - from < MIN_WINDOW) return null;
    return evaluateClassification(labels.slice(from), predicted.slice(from), classes).weighted_f1;
  };
  const sample = async () => {
    const drift = await api.call<DriftRoute>('/v1/monitoring/drift');
    const version = drift.versions[0];
    samples.push({
      stream: name,
      sent,
      estimatedF1: version?.estimatedF1 ?? null,
      trueF1: trueF1(),
      windowPredictions: version?.predictions ?? 0,
    });
    const firing = await monitoring.firingAlerts();
    const drifting = firing.filter((a) => a.labels.alertname === 'ModelDrift');
    if (drifting.length && result.driftAlertAt === null) {
      result.driftAlertAt = sent;
      result.driftSignals = drifting.map((a) => a.labels.signal).sort();
      progress(
        `stream ${name}: ModelDrift firing after ${sent} predictions (${result.driftSignals.join(', ')})`,
      );
    }
    if (firing.some((a) => a.labels.alertname === 'ModelF1BelowThreshold') && result.liveAlertAt === null) {
      result.liveAlertAt = sent;
      progress(`stream ${name}: ModelF1BelowThreshold firing after ${sent} predictions`);
    }
    if (version?.auditBoost && result.boostSeenAt === null && result.driftAlertAt !== null) {
      result.boostSeenAt = sent;
      progress(`stream ${name}: audit boost ${version.auditBoost.rate} until ${version.auditBoost.until}`);
    }
  };
  const watching = (async () => {
    while (sent < products.length) {
      await sleep(1000);
      await sample().catch((error: Error) => progress(`sample failed: ${error.message}`));
    }
  })();
  const batch = Math.max(1, Math.round(RATE / 4));
  while (sent < products.length) {
    const tick = performance.now();
    const items = products.slice(sent, sent + batch);
    const answer = await api.call<{ predictions: { id: string; prdtypecode: number }[] }>(
      '/v1/predictions/batch',
      {
        items: items.map((p) => ({ designation: p.designation, description: p.description })),
      },
    );
    answer.predictions.forEach((p, i) => {
      predicted.push(p.prdtypecode);
      labels.push(items[i].prdtypecode);
    });
    sent += items.length;
    const audited = answer.predictions
      .map((p, i) => ({ predictionId: p.id, prdtypecode: items[i].prdtypecode }))
      .filter(() => random.next() < AUDIT);
    if (audited.length) {
      labelling.push(sleep(LABEL_DELAY_MS).then(() => api.call('/v1/feedback/batch', { items: audited })));
    }
    await sleep(Math.max(0, 250 - (performance.now() - tick)));
  }
  await Promise.all(labelling);
  await watching;
  // Alerts that were pending when the stream ended: a few more evaluations.
  for (let i = 0; i < 8 && (result.driftAlertAt === null || result.liveAlertAt === null); i++) {
    await sleep(1000);
    await sample();
  }
  const own = samples.filter((s) => s.stream === name);
  const last = own.at(-1)!;
  result.finalEstimatedF1 = last.estimatedF1;
  result.finalTrueF1 = last.trueF1;
  // Once the window holds only this stream's predictions, its estimate and the true F1 cover the same predictions.
  const full = own.filter((s) => s.sent >= WINDOW && s.estimatedF1 !== null && s.trueF1 !== null);
  result.meanAbsoluteError = full.length
    ? full.reduce((sum, s) => sum + Math.abs(s.estimatedF1! - s.trueF1!), 0) / full.length
    : null;
  return result;
}

function chart(samples: Sample[], a: StreamResult, b: StreamResult, calibrated: boolean): string {
  const [w, h, left, top, right, bottom] = [760, 380, 56, 28, 16, 48];
  const { x, frame, points, marker } = f1Chart({
    width: w,
    height: h,
    left,
    top,
    right,
    bottom,
    xMax: 2 * STREAM,
  });
  const xOf = (s: Sample) => (s.stream === 'A' ? s.sent : STREAM + s.sent);
  const line = (pick: (s: Sample) => number | null) =>
    points(samples.filter((s) => pick(s) !== null).map((s) => [xOf(s), pick(s)!]));
  return `${frame}
<text x="${left}" y="16" font-size="12">Estimated (no labels) vs true weighted F1 of the last ${WINDOW} predictions${calibrated ? '' : ' (UNCALIBRATED probabilities)'}</text>
<line x1="${x(STREAM)}" y1="${top}" x2="${x(STREAM)}" y2="${h - bottom}" stroke="#999"/>
<text x="${x(STREAM / 2)}" y="${h - bottom + 16}" font-size="11" text-anchor="middle">stream A: training distribution</text>
<text x="${x(STREAM * 1.5)}" y="${h - bottom + 16}" font-size="11" text-anchor="middle">stream B: with ${HELD} categories the model never saw</text>
<text x="${(w + left) / 2}" y="${h - 8}" font-size="12" text-anchor="middle">predictions sent (${RATE}/s; ${AUDIT * 100}% labelled ${LABEL_DELAY_MS / 1000} s later)</text>
${marker(a.driftAlertAt, 'drift alert (A)', '#c00')}
${marker(b.driftAlertAt === null ? null : STREAM + b.driftAlertAt, 'drift alert', '#c60')}
${marker(b.liveAlertAt === null ? null : STREAM + b.liveAlertAt, 'live-F1 alert', '#606', 26)}
<polyline fill="none" stroke="#06c" stroke-width="2" points="${line((s) => s.estimatedF1)}"/>
<polyline fill="none" stroke="#080" stroke-width="2" points="${line((s) => s.trueF1)}"/>
<text x="${left + 8}" y="${h - bottom - 24}" font-size="12" fill="#06c">estimated F1 (drift watch)</text>
<text x="${left + 8}" y="${h - bottom - 8}" font-size="12" fill="#080">true F1 of the same predictions</text>
</svg>
`;
}

async function main(): Promise<void> {
  const { base, inDistribution, shifted, held } = splitData(benchDataDir());
  const root = mkdtempSync(join(tmpdir(), 'bench-drift-'));
  const schema = await createPostgresTestSchema();
  try {
    progress(`base: ${base.length} products without ${held.join(', ')}; streams of ${STREAM}`);
    writeProductsCsv(join(root, 'base'), base);
    const { data } = loadTrainingData(join(root, 'base'));
    const trained = await trainProductClassifier(data, TRAIN_PARAMS, () => undefined);
    const documents = trainingDocuments(trained);
    const reference = trained.driftReference;
    const calibrated = reference !== undefined;
    const modelDir = join(root, 'model');
    await trained.classifier.save(modelDir, { metrics: {}, 'model-card': trained.card, ...documents });
    const classes = [...trained.classifier.classes];
    const inProcess = reference ? await inProcessCost(trained.classifier, reference, inDistribution) : null;
    trained.classifier.dispose();
    const referenceF1 = reference
      ? evaluateClassification(
          reference.rows.map((r) => r.label),
          reference.rows.map((r) => r.predicted),
          classes,
        ).weighted_f1
      : 0.7;
    const liveThreshold = Math.max(0.05, Number((referenceF1 - 0.1).toFixed(3)));
    progress(
      `model trained; drift reference: ${reference ? `${reference.rows.length} held-out rows, weighted F1 ${referenceF1.toFixed(3)}` : 'NONE (no calibration)'}`,
    );

    const varDir = join(root, 'var');
    const env: Record<string, string> = {
      DATABASE_URL: schema.url,
      DATABASE_SCHEMA: schema.schema,
      VAR_DIR: varDir,
      JWT_SECRET: randomBytes(32).toString('hex'),
      ADMIN_USERNAME: 'bench-admin',
      ADMIN_PASSWORD: randomBytes(12).toString('hex'),
      ALERTMANAGER_WEBHOOK_TOKEN: randomBytes(16).toString('hex'),
      BOOTSTRAP_MODEL: 'off',
      RATE_LIMIT_PER_MINUTE: '0',
      IP_RATE_LIMIT_PER_MINUTE: '0',
      TOKEN_RATE_LIMIT_PER_MINUTE: '0',
      // The cost rounds measure throughput: nothing is shed on this shared machine.
      MAX_IN_FLIGHT: '0',
      MAX_QUEUE_WAIT_MS: '0',
      LIVE_REFRESH_SECONDS: '1',
      LIVE_WINDOW_SIZE: String(LIVE_WINDOW),
      LIVE_MIN_SAMPLES: String(LIVE_MIN_SAMPLES),
      LIVE_F1_THRESHOLD: String(liveThreshold),
      // The live-F1 alert is timed here, not acted on: no retraining in the middle of the streams.
      RETRAINING_ALERTS: 'BenchDoesNotRetrain',
      DRIFT_WINDOW: String(WINDOW),
      DRIFT_MIN_WINDOW: String(MIN_WINDOW),
      LOG_LEVEL: 'warn',
    };
    const dataSource = await openDataSource(AppConfig.fromEnvironment({ ...env }));
    const registry = new ModelRegistry(dataSource, new LocalArtifactStore(join(varDir, 'artifacts')));
    const record = await registry.register(modelDir, { createdBy: 'bench:drift', source: 'bench:drift' });
    await registry.promote(record.version, { actor: 'bench:drift' });
    await dataSource.destroy();

    const [onPort, offPort] = await freePorts(2);
    const admin = { username: env.ADMIN_USERNAME, password: env.ADMIN_PASSWORD };
    const serve = async (name: string, port: number, extra: Record<string, string>): Promise<BenchApi> => {
      const url = `http://127.0.0.1:${port}`;
      const api = processes.node(name, 'apps/api/src/main.ts', { ...env, ...extra, PORT: String(port) });
      await waitUntilAnswering(api, `${url}/health/ready`, 180_000);
      return benchApi(url, admin);
    };
    const on = await serve('api-on', onPort, { DRIFT_MONITORING: 'true' });
    const off = await serve('api-off', offPort, { DRIFT_MONITORING: 'false' });
    const run = join(root, 'monitoring');
    mkdirSync(run, { recursive: true });
    const monitoring = await startLocalMonitoring(
      {
        dir: run,
        api: on.url,
        webhookToken: env.ALERTMANAGER_WEBHOOK_TOKEN,
        alertFor: ALERT_FOR,
        driftAlertFor: ALERT_FOR,
        repeatInterval: '1h',
      },
      processes.showing,
    );
    monitoring.processes.forEach((service) => processes.add(service));

    progress(`cost: ${COST_ROUNDS} rounds of ${COST_REQUESTS} single-item predictions, watch on and off`);
    const warm = inDistribution.slice(0, 200);
    await throughput(on, warm);
    await throughput(off, warm);
    const rates = { on: [] as number[], off: [] as number[] };
    for (let round = 0; round < COST_ROUNDS; round++) {
      rates.on.push(await throughput(on, inDistribution));
      rates.off.push(await throughput(off, inDistribution));
      progress(
        `round ${round + 1}: on ${rates.on.at(-1)!.toFixed(0)}/s, off ${rates.off.at(-1)!.toFixed(0)}/s`,
      );
    }
    const median = (values: number[]) => [...values].sort((p, q) => p - q)[Math.floor(values.length / 2)];
    const cost = {
      onPerSecond: median(rates.on),
      offPerSecond: median(rates.off),
      slowdownPercent: (100 * (median(rates.off) - median(rates.on))) / median(rates.off),
      rounds: rates,
    };

    const samples: Sample[] = [];
    progress('stream A: the training distribution');
    const a = await stream('A', on, monitoring, inDistribution, classes, samples);
    progress('stream B: the shifted catalogue');
    const b = await stream('B', on, monitoring, shifted, classes, samples);
    const drift = await on.call<DriftRoute>('/v1/monitoring/drift');

    const fmt = (v: number | null) => (v === null ? '-' : v.toFixed(3));
    const at = (v: number | null) => (v === null ? 'never' : `after ${v} predictions`);
    const note = calibrated
      ? 'calibrated probabilities'
      : 'calibration NOT landed: uncalibrated probabilities';
    console.log(`bench:drift: base ${base.length} products (without ${held.join(', ')}), ${note}`);
    console.log(
      `stream A (training distribution, ${STREAM}): drift alert ${at(a.driftAlertAt)}; estimated F1 ${fmt(a.finalEstimatedF1)} vs true ${fmt(a.finalTrueF1)} (MAE ${fmt(a.meanAbsoluteError)})`,
    );
    console.log(
      `stream B (shifted, ${STREAM}): drift alert ${at(b.driftAlertAt)} (${b.driftSignals.join(', ') || '-'}), live-F1 alert ${at(b.liveAlertAt)}, audit boost seen ${at(b.boostSeenAt)}; estimated F1 ${fmt(b.finalEstimatedF1)} vs true ${fmt(b.finalTrueF1)} (MAE ${fmt(b.meanAbsoluteError)})`,
    );
    if (inProcess) {
      console.log(
        `cost in process: ${inProcess.offMicros.toFixed(0)} µs per prediction without the watch, ${inProcess.onMicros.toFixed(0)} µs with it (${inProcess.overheadPercent.toFixed(1)} %)`,
      );
    }
    console.log(
      `cost over HTTP: ${cost.onPerSecond.toFixed(0)}/s with the watch, ${cost.offPerSecond.toFixed(0)}/s without (${cost.slowdownPercent.toFixed(1)} % slower)`,
    );
    const summary = {
      calibrated,
      base: base.length,
      held,
      stream: STREAM,
      rate: RATE,
      audit: AUDIT,
      window: WINDOW,
      minWindow: MIN_WINDOW,
      alertFor: ALERT_FOR,
      referenceRows: reference?.rows.length ?? 0,
      referenceF1,
      liveF1Threshold: liveThreshold,
      liveWindow: LIVE_WINDOW,
      liveMinSamples: LIVE_MIN_SAMPLES,
      streamA: a,
      streamB: b,
      cost,
      inProcessCost: inProcess,
      finalDriftRoute: drift,
      samples,
    };
    mkdirSync(join(ROOT, 'docs/bench'), { recursive: true });
    writeFileSync(join(ROOT, 'docs/bench/drift.json'), `${JSON.stringify(summary, null, 2)}\n`);
    writeFileSync(join(ROOT, 'docs/bench/drift.svg'), chart(samples, a, b, calibrated));
    console.log(JSON.stringify({ ...summary, samples: samples.length, finalDriftRoute: undefined }));
  } finally {
    processes.stopAll();
    await schema.drop().catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
  }
}

processes.run('bench:drift', DEADLINE_MS, main);
