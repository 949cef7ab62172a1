import type { DriftReference } from './drift-reference.schema';

/** The signals judged per version, each "higher is worse" so that one rule shape alerts on all of them. */
export const DRIFT_SIGNALS = [
  'class_mix',
  'confidence',
  'text_length',
  'unseen_tokens',
  'photo_share',
  'estimated_f1_drop',
] as const;
export type DriftSignal = (typeof DRIFT_SIGNALS)[number];

/** Bins of calibrated top-class probability: tenths. */
const CONFIDENCE_EDGES = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];
/** Quantile bins of the reference for the continuous inputs: about a tenth of its rows each. */
const INPUT_BINS = 10;

/** One prediction as the monitor keeps it; class positions index the version's class list. */
export interface DriftObservation {
  predicted: number;
  confidence: number;
  /**
   * Classes and their calibrated probabilities: every class the answer scored. The estimate needs the whole
   * distribution: with only the five best classes, the mass left out (calibration spreads it) made the estimated
   * F1 of a real model 0.07 too high.
   */
  topClasses: ArrayLike<number>;
  topProbabilities: ArrayLike<number>;
  textLength: number;
  unseenTokenShare: number;
  hasImage: boolean;
}

/** Index of the bin `value` falls in: the number of edges at or below it. */
export function binOf(edges: readonly number[], value: number): number {
  let low = 0;
  let high = edges.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (edges[mid] <= value) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** Distinct inner quantile cut points of `values` (a heavy value such as 0 then fills one bin of its own). */
function quantileEdges(values: number[], bins: number): number[] {
  const sorted = [...values].sort((a, b) => a - b);
  const edges: number[] = [];
  for (let k = 1; k < bins; k++) {
    const edge = sorted[Math.min(sorted.length - 1, Math.floor((k * sorted.length) / bins))];
    if (edge > (edges.at(-1) ?? -Infinity) && edge > sorted[0]) edges.push(edge);
  }
  return edges;
}

/** Jensen-Shannon distance (base 2, 0..1) between counts over `total` and reference shares. */
export function jensenShannonDistance(
  counts: ArrayLike<number>,
  total: number,
  reference: ArrayLike<number>,
): number {
  if (total <= 0) return 0;
  let divergence = 0;
  for (let i = 0; i < reference.length; i++) {
    const a = counts[i] / total;
    const b = reference[i];
    const m = (a + b) / 2;
    if (a > 0) divergence += a * Math.log2(a / m);
    if (b > 0) divergence += b * Math.log2(b / m);
  }
  return Math.sqrt(Math.max(0, divergence / 2));
}

/**
 * Weighted F1 expected from calibrated probabilities (confidence-based performance estimation, as NannyML's CBPE):
 * per class, expected true positives are the confidences of the predictions of that class, expected support the
 * probability mass given to it; F1 = 2 TP / (predicted + support), weighted by expected support.
 */
export function estimatedWeightedF1(
  predicted: ArrayLike<number>,
  truePositives: ArrayLike<number>,
  support: ArrayLike<number>,
): number {
  let weighted = 0;
  let total = 0;
  for (let c = 0; c < support.length; c++) {
    const denominator = predicted[c] + support[c];
    if (support[c] > 0 && denominator > 0) weighted += (support[c] * 2 * truePositives[c]) / denominator;
    total += support[c];
  }
  return total > 0 ? weighted / total : 0;
}

/** Shares of the window's predictions in each bin, and its estimated F1: what a window is compared with. */
export interface Distributions {
  classShares: ArrayLike<number>;
  confidenceShares: ArrayLike<number>;
  textLengthShares: ArrayLike<number>;
  unseenShares: ArrayLike<number>;
  photoShares: ArrayLike<number>;
  estimatedF1: number;
}

/**
 * What a version's live window is compared with: the reference's class mix, confidence and input distributions
 * and its estimated F1, binned as the window bins its predictions, and the reference rows as observations for the
 * bootstrap that sets the thresholds.
 */
export class DriftProfile implements Distributions {
  readonly confidenceEdges = CONFIDENCE_EDGES;
  readonly textLengthEdges: number[];
  readonly unseenEdges: number[];
  readonly classShares: Float64Array;
  readonly confidenceShares: Float64Array;
  readonly textLengthShares: Float64Array;
  readonly unseenShares: Float64Array;
  readonly photoShares: Float64Array;
  readonly estimatedF1: number;
  /** Weighted F1 of the reference's own predictions against its labels. */
  readonly trueF1: number;
  readonly observations: DriftObservation[];
  private readonly position: Map<number, number>;

  constructor(readonly reference: DriftReference) {
    const { classes, rows } = reference;
    this.position = new Map(classes.map((code, i) => [code, i]));
    this.textLengthEdges = quantileEdges(
      rows.map((row) => row.textLength),
      INPUT_BINS,
    );
    this.unseenEdges = quantileEdges(
      rows.map((row) => row.unseenTokenShare),
      INPUT_BINS,
    );
    this.observations = rows.map((row) => this.observationOf(row));
    const n = rows.length;
    const shares = (bins: number, bin: (o: DriftObservation) => number) => {
      const counts = new Float64Array(bins);
      for (const observation of this.observations) counts[bin(observation)]++;
      return counts.map((count) => count / n);
    };
    this.classShares = shares(classes.length, (o) => o.predicted);
    this.confidenceShares = shares(CONFIDENCE_EDGES.length + 1, (o) => binOf(CONFIDENCE_EDGES, o.confidence));
    this.textLengthShares = shares(this.textLengthEdges.length + 1, (o) =>
      binOf(this.textLengthEdges, o.textLength),
    );
    this.unseenShares = shares(this.unseenEdges.length + 1, (o) =>
      binOf(this.unseenEdges, o.unseenTokenShare),
    );
    this.photoShares = shares(2, (o) => (o.hasImage ? 1 : 0));
    const predicted = new Float64Array(classes.length);
    const truePositives = new Float64Array(classes.length);
    const support = new Float64Array(classes.length);
    for (const o of this.observations) {
      predicted[o.predicted]++;
      truePositives[o.predicted] += o.confidence;
      for (let k = 0; k < o.topClasses.length; k++) support[o.topClasses[k]] += o.topProbabilities[k];
    }
    this.estimatedF1 = estimatedWeightedF1(predicted, truePositives, support);
    this.trueF1 = trueWeightedF1(
      rows.map((row) => this.indexOf(row.label)),
      this.observations.map((o) => o.predicted),
      classes.length,
    );
  }

  get classes(): readonly number[] {
    return this.reference.classes;
  }

  /** Position of a product type code in the version's classes, -1 for a code the version does not know. */
  indexOf(code: number): number {
    return this.position.get(code) ?? -1;
  }

  private observationOf(row: DriftReference['rows'][number]): DriftObservation {
    const order = row.probabilities.map((p, i) => [p, i] as const).sort((a, b) => b[0] - a[0]);
    return {
      predicted: this.indexOf(row.predicted),
      confidence: row.confidence,
      topClasses: order.map(([, i]) => i),
      topProbabilities: order.map(([p]) => p),
      textLength: row.textLength,
      unseenTokenShare: row.unseenTokenShare,
      hasImage: row.hasImage,
    };
  }
}

/** Weighted F1 of predictions against labels, both as class positions (a label of -1 counts as a miss). */
export function trueWeightedF1(
  labels: ArrayLike<number>,
  predictions: ArrayLike<number>,
  classes: number,
): number {
  const tp = new Float64Array(classes);
  const predicted = new Float64Array(classes);
  const support = new Float64Array(classes);
  for (let i = 0; i < labels.length; i++) {
    predicted[predictions[i]]++;
    if (labels[i] >= 0) support[labels[i]]++;
    if (labels[i] === predictions[i]) tp[labels[i]]++;
  }
  return estimatedWeightedF1(predicted, tp, support);
}
