import { SeededRandom } from '@app/ml';
import type { DriftProfile } from '../drift-profile.stats';
import type { DriftReference, DriftReferenceRow } from '../drift-reference.schema';
import { DriftWindow } from '../drift-window.stats';

export interface SyntheticRowOptions {
  /** How often each class is the true one (relative weights, one per class). */
  classWeights: number[];
  /** Mean characters of text. */
  meanTextLength: number;
  /** Mean share of unseen words. */
  meanUnseen: number;
  photoShare: number;
}

export const SYNTHETIC_CLASSES = [10, 40, 50, 60, 2583];

export const SYNTHETIC_DEFAULTS: SyntheticRowOptions = {
  classWeights: [5, 3, 2, 1, 1],
  meanTextLength: 120,
  meanUnseen: 0.05,
  photoShare: 0.5,
};

/**
 * Rows a calibrated model would give: each row's probabilities lean towards its true class, and the label is then
 * drawn from those probabilities, so that a row's top probability is its chance of being right.
 */
export function syntheticRows(
  count: number,
  seed: number,
  options: Partial<SyntheticRowOptions> = {},
): DriftReferenceRow[] {
  const o = { ...SYNTHETIC_DEFAULTS, ...options };
  const random = new SeededRandom(seed);
  const classes = SYNTHETIC_CLASSES;
  const totalWeight = o.classWeights.reduce((a, b) => a + b, 0);
  const pick = (weights: number[], total: number) => {
    let r = random.next() * total;
    for (let i = 0; i < weights.length; i++) if ((r -= weights[i]) < 0) return i;
    return weights.length - 1;
  };
  return Array.from({ length: count }, () => {
    const leaning = pick(o.classWeights, totalWeight);
    const raw = classes.map((_, c) => (c === leaning ? 1 + 4 * random.next() : random.next()));
    const sum = raw.reduce((a, b) => a + b, 0);
    const probabilities = raw.map((p) => p / sum);
    const label = classes[pick(probabilities, 1)];
    const best = probabilities.indexOf(Math.max(...probabilities));
    return {
      predicted: classes[best],
      confidence: probabilities[best],
      probabilities,
      label,
      textLength: Math.round(o.meanTextLength * (0.5 + random.next())),
      unseenTokenShare: Math.min(1, o.meanUnseen * 2 * random.next()),
      hasImage: random.next() < o.photoShare,
    };
  });
}

export function syntheticReference(count = 2000, seed = 1): DriftReference {
  return { schema: 1, classes: SYNTHETIC_CLASSES, rows: syntheticRows(count, seed) };
}

/** A live window holding `rows` as the API would add its predictions: predicted class and top classes by probability. */
export function syntheticWindow(profile: DriftProfile, rows: DriftReferenceRow[]): DriftWindow {
  const window = new DriftWindow(profile, rows.length);
  for (const row of rows) {
    const order = row.probabilities.map((p, i) => [p, i]).sort((a, b) => b[0] - a[0]);
    window.add({
      ...row,
      predicted: profile.indexOf(row.predicted),
      topClasses: order.map(([, i]) => i),
      topProbabilities: order.map(([p]) => p),
    });
  }
  return window;
}
