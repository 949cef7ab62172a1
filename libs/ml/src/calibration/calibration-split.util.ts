import type { ProductExample } from '../data/product.types';
import { designationKey, type EvaluationRows } from '../evaluation/evaluation-split.util';
import { SeededRandom } from '../runtime/random.util';
import type { TrainingData } from '../fitting/training.types';

/** 10 %: on the shared data's training side about 480 products, enough for a temperature and a curve per modality. */
export const DEFAULT_CALIBRATION_FRACTION = 0.1;

export interface CalibrationSplit {
  /** What the models train on. */
  train: TrainingData;
  /** The calibration slice: never trained on, and never part of the gate's evaluation split (it is cut from `data`). */
  heldOut: EvaluationRows;
  /** Training-only rows (extra text) left out because they twin a held-out title. */
  withheldTwins: number;
}

/**
 * Holds out about `fraction` of each class's labelled base rows (products and image-only rows), drawn with `seed`,
 * for calibration. Rows sharing a designation key (the normalised title without digits: near-duplicates) are held
 * out or kept together, and extra-text rows that twin a held-out title are not trained on, so that the slice does
 * not judge the model on titles it learned. A class keeps at least one of its groups for training.
 */
export function holdOutForCalibration(data: TrainingData, fraction: number, seed: number): CalibrationSplit {
  if (!(fraction >= 0 && fraction < 1)) {
    throw new RangeError(`the calibration fraction must be in [0, 1), got ${fraction}`);
  }
  const base = [...data.products, ...data.imageOnly].filter((row) => row.label !== undefined);
  const groups = new Map<string, ProductExample[]>();
  base.forEach((row, index) => {
    const key = designationKey(row.designation) || `row ${index}`;
    const group = groups.get(key);
    if (group) group.push(row);
    else groups.set(key, [row]);
  });
  const byClass = new Map<number, { key: string; rows: ProductExample[] }[]>();
  for (const [key, rows] of groups) {
    const label = majorityLabel(rows);
    const classGroups = byClass.get(label);
    if (classGroups) classGroups.push({ key, rows });
    else byClass.set(label, [{ key, rows }]);
  }
  const random = new SeededRandom(seed);
  const heldKeys = new Set<string>();
  for (const label of [...byClass.keys()].sort((a, b) => a - b)) {
    const classGroups = random.shuffle(byClass.get(label)!);
    const size = classGroups.reduce((sum, group) => sum + group.rows.length, 0);
    const target = Math.ceil(fraction * size);
    let taken = 0;
    for (const group of classGroups.slice(0, -1)) {
      if (taken >= target) break;
      if (taken + group.rows.length > target) continue;
      heldKeys.add(group.key);
      taken += group.rows.length;
    }
  }
  const held = new Set([...heldKeys].flatMap((key) => groups.get(key)!));
  const keep = (rows: ProductExample[]) => rows.filter((row) => !held.has(row));
  const extraText = data.extraText.filter((row) => !heldKeys.has(designationKey(row.designation)));
  return {
    train: {
      ...data,
      products: keep(data.products),
      imageOnly: keep(data.imageOnly),
      extraText,
    },
    heldOut: {
      products: data.products.filter((row) => held.has(row)),
      imageOnly: data.imageOnly.filter((row) => held.has(row)),
    },
    withheldTwins: data.extraText.length - extraText.length,
  };
}

function majorityLabel(rows: ProductExample[]): number {
  const counts = new Map<number, number>();
  for (const row of rows) counts.set(row.label!, (counts.get(row.label!) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0][0];
}
