import { SeededRandom } from '../runtime/random.util';

export interface Fold {
  train: number[];
  test: number[];
}

/**
 * Stratified k-fold split of row indices: each class's rows are shuffled (seeded) and dealt round-robin to the folds,
 * so every class is spread evenly (per-fold counts differ by at most one). The deal carries on from one class to the
 * next instead of restarting at fold 0, which keeps the fold sizes balanced too. Indices in each list are ascending.
 */
export function stratifiedKFold(labels: number[], k: number, seed: number): Fold[] {
  if (!Number.isInteger(k) || k < 2) throw new Error(`k must be an integer >= 2, got ${k}`);
  if (labels.length < k) throw new Error(`Cannot split ${labels.length} rows into ${k} folds`);
  const rng = new SeededRandom(seed);
  const byClass = rowsByClass(labels);
  const foldOf = new Int32Array(labels.length);
  let next = 0;
  for (const label of [...byClass.keys()].sort((a, b) => a - b)) {
    for (const i of rng.shuffle(byClass.get(label)!)) {
      foldOf[i] = next;
      next = (next + 1) % k;
    }
  }
  return Array.from({ length: k }, (_, fold) => {
    const train: number[] = [];
    const test: number[] = [];
    for (let i = 0; i < labels.length; i++) (foldOf[i] === fold ? test : train).push(i);
    return { train, test };
  });
}

/** The row indices of each label, in row order. */
export function rowsByClass(labels: number[]): Map<number, number[]> {
  const byClass = new Map<number, number[]>();
  labels.forEach((label, i) => {
    const rows = byClass.get(label) ?? [];
    rows.push(i);
    byClass.set(label, rows);
  });
  return byClass;
}
