import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  killProcessGroup,
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
  const tokenRes = await fetch(`${url}/v1/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', ...admin }).toString(),
  });
  const token = ((await tokenRes.json()) as { access_token: string }).access_token;
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
