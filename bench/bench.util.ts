import { resolve } from 'node:path';
import { rakutenDataDir } from '@app/ml';
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
