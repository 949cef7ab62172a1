/**
 * Training at the size of the real catalogue: the shared data replicated 1×, 2×, 5× and 10× (every copy after the
 * first with perturbed text: words dropped and neighbours swapped; photos reused, so their cached features too), each
 * trained with the product's default options in a child process of its own, which reports its time and peak resident
 * memory. Prints a table and writes docs/bench/scale.json and docs/bench/scale.svg.
 *
 *   npm run bench:scale
 *
 * Environment: BENCH_SCALE_FACTORS (default "1,2,5,10"; a subset updates those factors in the JSON and the chart, an
 * empty list only redraws the chart),
 * BENCH_SCALE_TIMEOUT_S (a run is stopped after this, default 1800: the target), BENCH_FEATURE_CACHE.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import {
  DEFAULT_TRAIN_OPTIONS,
  loadTrainingData,
  SeededRandom,
  trainProductClassifier,
  type ProductExample,
  type TrainingData,
} from '@app/ml';
import { benchDataDir, benchFeatureStore } from './bench.util';

const OUT_DIR = resolve(__dirname, '..', 'docs', 'bench');
const TIME_LIMIT_S = 1800;
const MEMORY_LIMIT_MIB = 4096;

interface ScaleRun {
  factor: number;
  textRows: number;
  images: number;
  seconds: number;
  /** CPU time of the child, user + system: what the run costs whatever else the machine runs. */
  cpuSeconds?: number;
  /** Load average (1 min) at the start and at the end of the run. */
  load?: [number, number];
  textSeconds?: number;
  imageSeconds?: number;
  peakRssMiB: number;
  outcome: 'trained' | 'timed out' | 'failed';
}

/** A copy of a text with about a tenth of its words dropped and a few neighbours swapped. */
function perturb(text: string, rng: SeededRandom): string {
  const words = text.split(/\s+/).filter((w) => w && rng.next() >= 0.1);
  for (let i = 0; i + 1 < words.length; i++) {
    if (rng.next() < 0.05) [words[i], words[i + 1]] = [words[i + 1], words[i]];
  }
  return words.length ? words.join(' ') : text;
}

function replicate(rows: ProductExample[], factor: number, rng: SeededRandom): ProductExample[] {
  const out = [...rows];
  for (let copy = 1; copy < factor; copy++) {
    for (const row of rows) {
      out.push({
        ...row,
        designation: perturb(row.designation, rng),
        description: perturb(row.description, rng),
      });
    }
  }
  return out;
}

/** The child: trains on the data replicated `factor` times and prints one JSON line. */
async function trainOnce(factor: number): Promise<void> {
  const { data } = loadTrainingData(benchDataDir());
  const rng = new SeededRandom(factor);
  const scaled: TrainingData = {
    ...data,
    products: replicate(data.products, factor, rng),
    extraText: replicate(data.extraText, factor, rng),
    imageOnly: replicate(data.imageOnly, factor, rng),
  };
  const started = Date.now();
  const { classifier, card } = await trainProductClassifier(
    scaled,
    DEFAULT_TRAIN_OPTIONS,
    (line) => process.stderr.write(`[${factor}×] ${line}\n`),
    undefined,
    undefined,
    { featureStore: benchFeatureStore() },
  );
  classifier.dispose();
  const cpu = process.cpuUsage();
  const run: ScaleRun = {
    factor,
    textRows: card.rows.textTraining,
    images: card.rows.imageTraining,
    seconds: (Date.now() - started) / 1000,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    textSeconds: card.timings.textSeconds,
    imageSeconds: card.timings.imageSeconds,
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    outcome: 'trained',
  };
  process.stdout.write(`${JSON.stringify(run)}\n`);
}

/** Runs one factor in a child process, stopping it at the time limit; its peak memory is read while it runs. */
function runChild(factor: number, timeoutSeconds: number): Promise<ScaleRun> {
  return new Promise((done) => {
    const started = Date.now();
    const startLoad = loadavg()[0];
    const child = spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', __filename, String(factor)],
      { cwd: resolve(__dirname, '..'), stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let stdout = '';
    let peakRssMiB = 0;
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const watch = setInterval(() => {
      try {
        const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (hwm) peakRssMiB = Math.max(peakRssMiB, Math.round(Number(hwm[1]) / 1024));
      } catch {
        // the child has exited between two reads
      }
    }, 1000);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutSeconds * 1000);
    child.on('exit', (code) => {
      clearInterval(watch);
      clearTimeout(timer);
      const seconds = (Date.now() - started) / 1000;
      const line = stdout.trim().split('\n').at(-1);
      const load: [number, number] = [startLoad, loadavg()[0]];
      if (code === 0 && line) return done({ ...(JSON.parse(line) as ScaleRun), load });
      done({
        factor,
        textRows: 0,
        images: 0,
        seconds,
        peakRssMiB,
        load: [startLoad, loadavg()[0]],
        outcome: seconds >= timeoutSeconds ? 'timed out' : 'failed',
      });
    });
  });
}

/**
 * Two bar panels over the factors: training time against 30 min (wall clock, and beside it in blue the CPU time of
 * all the run's threads, which other jobs on the machine do not inflate), peak memory against 4 GiB.
 */
function chart(runs: ScaleRun[]): string {
  const width = 760;
  const height = 340;
  const top = 48;
  const bottom = height - 48;
  const panel = (
    x0: number,
    title: string,
    series: { values: (number | undefined)[]; colour?: string }[],
    limit: number,
    unit: string,
  ) => {
    const w = width / 2 - 70;
    const max = Math.max(limit, ...series.flatMap((s) => s.values.map((v) => v ?? 0))) * 1.12;
    const y = (v: number) => bottom - ((bottom - top) * v) / max;
    const slot = w / runs.length;
    const bar = (slot * 0.7) / series.length;
    const bars = runs
      .map((r, i) => {
        const x0Slot = x0 + i * slot + slot * 0.15;
        const drawn = series
          .map(({ values, colour }, k) => {
            const v = values[i];
            if (v === undefined) return '';
            const x = x0Slot + k * bar;
            const fill = colour ?? (r.outcome !== 'trained' ? '#999' : v <= limit ? '#3a7' : '#c33');
            const label = `${Math.round(v)}${k === 0 && r.outcome !== 'trained' ? ` (${r.outcome})` : ''}`;
            return (
              `<rect x="${x}" y="${y(v)}" width="${bar * 0.92}" height="${bottom - y(v)}" fill="${fill}"/>` +
              `<text x="${x + bar / 2}" y="${y(v) - 4}" font-size="10" text-anchor="middle">${label}</text>`
            );
          })
          .join('');
        return (
          drawn +
          `<text x="${x0Slot + slot * 0.35}" y="${bottom + 16}" font-size="12" text-anchor="middle">${r.factor}×</text>`
        );
      })
      .join('');
    return (
      `<text x="${x0 + w / 2}" y="22" font-size="13" text-anchor="middle">${title}</text>` +
      `<line x1="${x0}" y1="${bottom}" x2="${x0 + w}" y2="${bottom}" stroke="#333"/>` +
      `<line x1="${x0}" y1="${y(limit)}" x2="${x0 + w}" y2="${y(limit)}" stroke="#c00" stroke-dasharray="6,4"/>` +
      `<text x="${x0 + w / 2}" y="38" font-size="11" fill="#c00" text-anchor="middle">dashed: the limit, ${limit} ${unit}</text>` +
      bars
    );
  };
  const loads = runs.flatMap((r) => r.load ?? []);
  const loadNote = loads.length
    ? `, load average ${Math.min(...loads).toFixed(0)}–${Math.max(...loads).toFixed(0)} from other jobs`
    : '';
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    panel(
      50,
      'training time (s): wall clock, CPU (blue)',
      [{ values: runs.map((r) => r.seconds) }, { values: runs.map((r) => r.cpuSeconds), colour: '#58a' }],
      TIME_LIMIT_S,
      's',
    ),
    panel(
      width / 2 + 40,
      'peak resident memory (MiB)',
      [{ values: runs.map((r) => r.peakRssMiB) }],
      MEMORY_LIMIT_MIB,
      'MiB',
    ),
    `<text x="${width / 2}" y="${height - 22}" font-size="11" text-anchor="middle">shared data × factor (perturbed text, photos reused)</text>`,
    `<text x="${width / 2}" y="${height - 8}" font-size="11" text-anchor="middle">${cpus().length} cores${loadNote}</text>`,
    '</svg>',
  ].join('\n');
}

async function main(): Promise<void> {
  const factors = (process.env.BENCH_SCALE_FACTORS ?? '1,2,5,10').split(',').filter(Boolean).map(Number);
  const timeout = Number(process.env.BENCH_SCALE_TIMEOUT_S ?? TIME_LIMIT_S);
  const jsonPath = resolve(OUT_DIR, 'scale.json');
  const previous = existsSync(jsonPath)
    ? (JSON.parse(readFileSync(jsonPath, 'utf8')) as { runs: ScaleRun[] }).runs
    : [];
  const runs = new Map(previous.map((r) => [r.factor, r]));
  const sorted = () => [...runs.values()].sort((a, b) => a.factor - b.factor);
  // Saved after each run: a 10× run takes long, and the runs before it are worth keeping if it is stopped.
  const save = () => {
    mkdirSync(OUT_DIR, { recursive: true });
    writeFileSync(
      jsonPath,
      `${JSON.stringify({ limits: { seconds: TIME_LIMIT_S, residentMiB: MEMORY_LIMIT_MIB }, runs: sorted() }, null, 2)}\n`,
    );
    writeFileSync(resolve(OUT_DIR, 'scale.svg'), `${chart(sorted())}\n`);
  };
  for (const factor of factors) {
    const run = await runChild(factor, timeout);
    runs.set(factor, run);
    save();
    console.log(
      `  ${factor}×: ${run.outcome}, ${run.textRows} text rows, ${run.images} images, ${run.seconds.toFixed(0)} s ` +
        `(text ${run.textSeconds?.toFixed(0) ?? '-'} s, image ${run.imageSeconds?.toFixed(0) ?? '-'} s; CPU ` +
        `${run.cpuSeconds?.toFixed(0) ?? '-'} s), peak RSS ${run.peakRssMiB} MiB, load ${run.load?.map((l) => l.toFixed(1)).join(' → ')}`,
    );
  }
  save();
  console.log(`bench:scale  training time and peak memory by data size (${cpus().length} cores)`);
  console.log('| factor | text rows | images | training | CPU time | peak RSS | load average | outcome |');
  console.log('|--------|-----------|--------|----------|----------|----------|--------------|---------|');
  for (const r of sorted()) {
    console.log(
      `| ${r.factor}× | ${r.textRows} | ${r.images} | ${r.seconds.toFixed(0)} s | ${r.cpuSeconds?.toFixed(0) ?? '-'} s | ` +
        `${r.peakRssMiB} MiB | ${r.load?.map((l) => l.toFixed(1)).join(' → ') ?? '-'} | ${r.outcome} |`,
    );
  }
}

const factorArgument = process.argv[2];
(factorArgument ? trainOnce(Number(factorArgument)) : main()).catch((error) => {
  console.error(error);
  process.exit(1);
});
