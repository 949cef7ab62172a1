/** One bin of a reliability table: predictions whose confidence fell in [lower, upper). */
export interface ReliabilityBin {
  lower: number;
  upper: number;
  /** Mean top probability of the predictions in the bin. */
  meanConfidence: number;
  /** Share of them that were right. */
  accuracy: number;
  count: number;
}

/** One point of the coverage / precision curve: what accepting every prediction at or above `threshold` gives. */
export interface CoveragePoint {
  threshold: number;
  /** Share of the predictions at or above the threshold. */
  coverage: number;
  /** Their accuracy; null when none is. */
  precision: number | null;
  count: number;
}

/** Ten equal-width bins: the held-out slice has a few hundred rows per modality, enough for ten. */
export const RELIABILITY_BINS = 10;

/** The curve's thresholds: every hundredth, the resolution at which an acceptance threshold is chosen. */
export const CURVE_STEPS = 100;

/**
 * The one-sided 95 % normal quantile: a threshold is chosen where the lower confidence bound of the precision above
 * it reaches the target, not the point estimate, so that on new data of the same kind the promise holds about 19
 * times in 20 rather than one time in two.
 */
export const PRECISION_BOUND_Z = 1.645;

/** The bins of a reliability table (non-empty bins only), from each prediction's confidence and correctness. */
export function reliabilityTable(
  confidences: ArrayLike<number>,
  correct: ArrayLike<boolean>,
  bins = RELIABILITY_BINS,
): ReliabilityBin[] {
  const sums = Array.from({ length: bins }, () => ({ confidence: 0, right: 0, count: 0 }));
  for (let i = 0; i < confidences.length; i++) {
    const bin = Math.min(bins - 1, Math.floor(confidences[i] * bins));
    sums[bin].confidence += confidences[i];
    sums[bin].right += correct[i] ? 1 : 0;
    sums[bin].count++;
  }
  return sums.flatMap((sum, bin) =>
    sum.count === 0
      ? []
      : [
          {
            lower: bin / bins,
            upper: (bin + 1) / bins,
            meanConfidence: sum.confidence / sum.count,
            accuracy: sum.right / sum.count,
            count: sum.count,
          },
        ],
  );
}

/** Expected calibration error: the count-weighted mean gap between confidence and accuracy over the bins. */
export function expectedCalibrationError(table: ReliabilityBin[]): number {
  const total = table.reduce((sum, bin) => sum + bin.count, 0);
  if (total === 0) return 0;
  return table.reduce(
    (sum, bin) => sum + (bin.count / total) * Math.abs(bin.meanConfidence - bin.accuracy),
    0,
  );
}

/** At each hundredth from 0 to 0.99: the share of predictions at or above it and their accuracy. */
export function coverageCurve(confidences: ArrayLike<number>, correct: ArrayLike<boolean>): CoveragePoint[] {
  const n = confidences.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => confidences[b] - confidences[a]);
  const points: CoveragePoint[] = [];
  let taken = 0;
  let right = 0;
  for (let step = CURVE_STEPS - 1; step >= 0; step--) {
    const threshold = step / CURVE_STEPS;
    while (taken < n && confidences[order[taken]] >= threshold) {
      right += correct[order[taken]] ? 1 : 0;
      taken++;
    }
    points.push({
      threshold,
      coverage: n ? taken / n : 0,
      precision: taken ? right / taken : null,
      count: taken,
    });
  }
  return points.reverse();
}

/** Wilson's lower bound of a proportion (`right` of `count`) at the normal quantile `z`. */
export function wilsonLowerBound(right: number, count: number, z = PRECISION_BOUND_Z): number {
  if (count === 0) return 0;
  const p = right / count;
  const z2 = z * z;
  const centre = p + z2 / (2 * count);
  const spread = z * Math.sqrt((p * (1 - p)) / count + z2 / (4 * count * count));
  return (centre - spread) / (1 + z2 / count);
}

/**
 * The lowest threshold of the curve whose precision above it keeps the promise `targetPrecision`, judged by the
 * lower confidence bound of that precision (conservative: few rows above a threshold prove little). 1 when no
 * threshold does: nothing is accepted automatically (see decide).
 */
export function acceptanceThreshold(
  curve: CoveragePoint[],
  targetPrecision: number,
  z = PRECISION_BOUND_Z,
): number {
  if (!(targetPrecision > 0 && targetPrecision <= 1)) {
    throw new RangeError(`the target precision must be in (0, 1], got ${targetPrecision}`);
  }
  for (const point of [...curve].sort((a, b) => a.threshold - b.threshold)) {
    if (point.count === 0 || point.precision === null) continue;
    const right = Math.round(point.precision * point.count);
    if (wilsonLowerBound(right, point.count, z) >= targetPrecision) return point.threshold;
  }
  return 1;
}

export type Decision = 'accept' | 'review';

/**
 * Accepted when the calibrated confidence reaches the threshold. A threshold of 1 accepts nothing: it is what a
 * version that cannot keep the promise gets, and a rounded probability of exactly 1 must not slip through it.
 */
export function decide(confidence: number, threshold: number): Decision {
  return threshold < 1 && confidence >= threshold ? 'accept' : 'review';
}
