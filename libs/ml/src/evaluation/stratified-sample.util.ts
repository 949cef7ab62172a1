import { SeededRandom } from '../runtime/random.util';
import { rowsByClass } from './stratified-k-fold.util';

/**
 * About `size` row indices drawn without replacement, each class keeping its share of the rows (at least one row of
 * every class), seeded; ascending. All the rows when there are no more than `size`.
 */
export function stratifiedSample(labels: number[], size: number, seed: number): number[] {
  if (!(size > 0)) throw new Error(`size must be positive, got ${size}`);
  if (labels.length <= size) return labels.map((_, i) => i);
  const rng = new SeededRandom(seed);
  const byClass = rowsByClass(labels);
  const kept: number[] = [];
  for (const label of [...byClass.keys()].sort((a, b) => a - b)) {
    const rows = byClass.get(label)!;
    const share = Math.max(1, Math.floor((rows.length * size) / labels.length));
    kept.push(...rng.shuffle(rows).slice(0, share));
  }
  return kept.sort((a, b) => a - b);
}
