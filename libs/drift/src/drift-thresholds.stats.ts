import { SeededRandom, type SlicedWork } from '@app/ml';
import { DRIFT_SIGNALS, type DriftProfile } from './drift-profile.stats';
import { DriftWindow, type SignalValues } from './drift-window.stats';

export interface ThresholdOptions {
  /** The live window's size (DRIFT_WINDOW). */
  window: number;
  /** No signal is judged on fewer predictions (DRIFT_MIN_WINDOW). */
  minWindow: number;
  /** The quantile of the bootstrap windows' values a signal must exceed (DRIFT_QUANTILE). */
  quantile: number;
  /** Windows drawn per size. */
  draws: number;
}

/** Each size's thresholds: ascending sizes from the minimum window to the full one. */
export interface ThresholdTable {
  sizes: number[];
  thresholds: SignalValues[];
}

/** Window sizes thresholds are drawn for: ×1.5 steps from the minimum to the full window. */
export function thresholdSizes(minWindow: number, window: number): number[] {
  const sizes: number[] = [];
  for (let size = minWindow; size < window; size = Math.ceil(size * 1.5)) sizes.push(size);
  sizes.push(window);
  return sizes;
}

/**
 * The thresholds that bound false alarms. A live window and the reference are two samples of the same traffic when
 * nothing drifted, so each draw resamples both: a reference of the reference's size and, for each window size, a
 * window of that many predictions, drawn with replacement from the reference rows (predictions like the version's
 * own on data like its training data). Per signal and size, the `quantile` of the draws' values is the threshold: a
 * live window above it looks less like the reference than all but (1 - quantile) of such windows. A fixed seed
 * makes every replica compute the same thresholds. Sliced work: a turn of the event loop can come between draws.
 */
export function* bootstrapThresholds(
  profile: DriftProfile,
  options: ThresholdOptions,
): SlicedWork<ThresholdTable> {
  const random = new SeededRandom(20_659);
  const rows = profile.observations;
  const sizes = thresholdSizes(options.minWindow, options.window);
  const windows = sizes.map((size) => new DriftWindow(profile, size));
  const reference = new DriftWindow(profile, rows.length);
  const values = sizes.map(() => DRIFT_SIGNALS.map(() => new Float64Array(options.draws)));
  for (let draw = 0; draw < options.draws; draw++) {
    // A draw is a few milliseconds, and a serving process draws hundreds while it answers requests.
    yield;
    reference.clear();
    for (let i = 0; i < rows.length; i++) reference.add(rows[random.int(rows.length)]);
    const resampled = reference.distributions();
    windows.forEach((window, k) => {
      window.clear();
      for (let i = 0; i < sizes[k]; i++) window.add(rows[random.int(rows.length)]);
      const signals = window.signals(resampled);
      DRIFT_SIGNALS.forEach((signal, s) => (values[k][s][draw] = signals[signal]));
    });
  }
  const thresholds = values.map(
    (bySignal) =>
      Object.fromEntries(
        DRIFT_SIGNALS.map((signal, s) => [signal, quantileOf(bySignal[s].sort(), options.quantile)]),
      ) as SignalValues,
  );
  return { sizes, thresholds };
}

/** The thresholds for a window of `count` predictions: those of the largest size drawn that it reaches. */
export function thresholdsFor(table: ThresholdTable, count: number): SignalValues | undefined {
  let found: SignalValues | undefined;
  table.sizes.forEach((size, i) => {
    if (count >= size) found = table.thresholds[i];
  });
  return found;
}

/** Linear interpolation between order statistics of sorted values. */
function quantileOf(sorted: Float64Array, q: number): number {
  const at = q * (sorted.length - 1);
  const low = Math.floor(at);
  const high = Math.min(sorted.length - 1, low + 1);
  return sorted[low] + (sorted[high] - sorted[low]) * (at - low);
}
