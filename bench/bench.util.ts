import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  killProcessGroup,
  passwordToken,
  startNodeEntry,
  type ServiceProcess,
  type StartOptions,
} from '@app/config/testing';
import { rakutenDataDir, readCsvRecords, SeededRandom } from '@app/ml';
import { LocalArtifactStore } from '@app/storage';

/** Where bench:train writes its model and bench:predict reads it. */
export const BENCH_MODEL_DIR = resolve(process.env.BENCH_MODEL_DIR ?? 'var/bench/model');

export function benchDataDir(): string {
  const dir = rakutenDataDir();
  if (!dir) {
    console.error('No Rakuten data: set RAKUTEN_DATA_DIR or place it at ../shared/data/rakuten');
    process.exit(1);
  }
  return dir;
}

export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

export const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;

/**
 * Image features cached by photo hash for every bench (as the service caches them in its artifact store): the first
 * run extracts, later runs read. BENCH_FEATURE_CACHE moves it.
 */
export function benchFeatureStore(): LocalArtifactStore {
  return new LocalArtifactStore(resolve(process.env.BENCH_FEATURE_CACHE ?? 'var/bench/feature-cache'));
}

/** The processes a bench starts, stopped together; their warnings and errors are shown (everything with BENCH_VERBOSE=1). */
export class BenchProcesses {
  private readonly running: ServiceProcess[] = [];

  /** Start options that show `name`'s warnings and errors. */
  readonly showing = (name: string, env: Record<string, string> = {}): StartOptions => ({
    env,
    onLine: (line) => {
      if (line && (process.env.BENCH_VERBOSE === '1' || /\b(WARN|ERROR)\b/.test(line))) {
        console.error(`[${name}] ${line}`);
      }
    },
  });

  /** An app's entry point (apps/api/src/main.ts, apps/worker/src/main.ts) with `env`. */
  node(name: string, entry: string, env: Record<string, string>): ServiceProcess {
    return this.add(startNodeEntry(name, entry, this.showing(name, env)));
  }

  add(service: ServiceProcess): ServiceProcess {
    this.running.push(service);
    return service;
  }

  /** SIGKILL to every group started so far: synchronous, for an exit handler. */
  readonly stopAll = (): void => {
    for (const service of this.running.splice(0)) killProcessGroup(service);
  };

  /**
   * Runs a bench's main and exits: 0 when it ends, 1 when it fails or runs past `deadlineMs`. The processes
   * started stop on the way out, whichever way that is.
   */
  run(bench: string, deadlineMs: number, main: () => Promise<void>): void {
    setTimeout(() => {
      console.error(`${bench}: past its deadline of ${deadlineMs / 1000} s: stopping`);
      process.exit(1);
    }, deadlineMs).unref();
    process.once('exit', this.stopAll);
    main().then(
      () => process.exit(0),
      (error: Error) => {
        console.error(`${bench} failed: ${error.message}`);
        process.exit(1);
      },
    );
  }
}

export interface BenchApi {
  url: string;
  /** GET, or POST with a JSON body; throws on an answer other than 2xx. */
  call<T>(path: string, body?: unknown): Promise<T>;
}

/** An admin's client of a running API: a password token, then JSON calls with it. */
export async function benchApi(
  url: string,
  admin: { username: string; password: string },
): Promise<BenchApi> {
  const token = await passwordToken(url, admin);
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
  return {
    url,
    call: async <T>(path: string, body?: unknown): Promise<T> => {
      const res = await fetch(
        `${url}${path}`,
        body === undefined ? { headers } : { method: 'POST', headers, body: JSON.stringify(body) },
      );
      if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
      return (await res.json()) as T;
    },
  };
}

export interface BenchProduct {
  designation: string;
  description: string;
  prdtypecode: number;
}

/**
 * The split of the feedback-loop and drift benches: products.csv shuffled (seed 7), a base half without the `held`
 * most common categories (missing them costs a model the most), and the other half, with every category.
 */
export function heldOutSplit(
  dataDir: string,
  held: number,
): { base: BenchProduct[]; rest: BenchProduct[]; held: number[] } {
  const products: BenchProduct[] = readCsvRecords(join(dataDir, 'products.csv')).records.map((r) => ({
    designation: r.values.designation,
    description: r.values.description ?? '',
    prdtypecode: Number(r.values.prdtypecode),
  }));
  const shuffled = new SeededRandom(7).shuffle([...products]);
  const counts = new Map<number, number>();
  for (const p of shuffled) counts.set(p.prdtypecode, (counts.get(p.prdtypecode) ?? 0) + 1);
  const heldCodes = [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, held)
    .map(([code]) => code);
  const half = Math.floor(shuffled.length / 2);
  return {
    base: shuffled.slice(0, half).filter((p) => !heldCodes.includes(p.prdtypecode)),
    rest: shuffled.slice(half),
    held: heldCodes,
  };
}

/** `rows` as a text-only products.csv in `dir`, the layout `--data` and DATA_DIR read. */
export function writeProductsCsv(dir: string, rows: BenchProduct[]): void {
  mkdirSync(dir, { recursive: true });
  const quote = (v: string) => `"${v.replace(/"/g, '""')}"`;
  const lines = rows.map((p, i) =>
    [String(i + 1), String(i + 1), quote(p.designation), quote(p.description), String(p.prdtypecode)].join(
      ',',
    ),
  );
  writeFileSync(
    join(dir, 'products.csv'),
    ['productid,imageid,designation,description,prdtypecode', ...lines].join('\n'),
  );
}

/** An F1 chart's size and margins in pixels, and the largest value on its x axis. */
export interface F1ChartBox {
  width: number;
  height: number;
  left: number;
  top: number;
  right: number;
  bottom: number;
  xMax: number;
}

/**
 * What the F1 charts of the benches share: the scales, the frame (axes, F1 ticks from 0 to 1; close it with
 * `</svg>`), a polyline's points and a dashed vertical marker with its label.
 */
export function f1Chart(box: F1ChartBox): {
  x: (value: number) => number;
  y: (f1: number) => number;
  frame: string;
  points: (values: [number, number][]) => string;
  marker: (at: number | null, label: string, colour: string, dy?: number) => string;
} {
  const { width, height, left, top, right, bottom } = box;
  const x = (value: number) => left + (value / box.xMax) * (width - left - right);
  const y = (f1: number) => top + (1 - f1) * (height - top - bottom);
  const ticks = [0, 0.2, 0.4, 0.6, 0.8, 1]
    .map(
      (v) => `<text x="${left - 8}" y="${y(v) + 4}" font-size="11" text-anchor="end">${v.toFixed(1)}</text>`,
    )
    .join('');
  return {
    x,
    y,
    frame: `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">
<rect width="${width}" height="${height}" fill="white"/>
<line x1="${left}" y1="${height - bottom}" x2="${width - right}" y2="${height - bottom}" stroke="#333"/>
<line x1="${left}" y1="${top}" x2="${left}" y2="${height - bottom}" stroke="#333"/>
${ticks}`,
    points: (values) => values.map(([v, f1]) => `${x(v).toFixed(1)},${y(f1).toFixed(1)}`).join(' '),
    marker: (at, label, colour, dy = 12) =>
      at === null
        ? ''
        : `<line x1="${x(at)}" y1="${top}" x2="${x(at)}" y2="${height - bottom}" stroke="${colour}" stroke-dasharray="3,3"/>` +
          `<text x="${x(at) + 4}" y="${top + dy}" font-size="11" fill="${colour}">${label}</text>`,
  };
}
