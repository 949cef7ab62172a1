import {
  binOf,
  DriftProfile,
  type Distributions,
  estimatedWeightedF1,
  jensenShannonDistance,
  type DriftObservation,
  type DriftSignal,
} from './drift-profile.stats';

export type SignalValues = Record<DriftSignal, number>;

/**
 * The last `capacity` predictions of one version as running counts: adding a prediction (and dropping the oldest)
 * touches a few counters, so the cost per prediction does not grow with the window; the signals are computed from
 * the counts when asked (a scrape, the route), in time proportional to the number of classes.
 */
export class DriftWindow {
  private size = 0;
  private next = 0;
  private readonly predicted: Int32Array;
  private readonly confidence: Float64Array;
  private readonly topClasses: Int32Array;
  private readonly topProbabilities: Float64Array;
  private readonly inputBins: Uint8Array;
  private readonly classCounts: Float64Array;
  private readonly truePositives: Float64Array;
  private readonly support: Float64Array;
  private readonly confidenceCounts: Float64Array;
  private readonly textLengthCounts: Float64Array;
  private readonly unseenCounts: Float64Array;
  private readonly photoCounts = new Float64Array(2);
  /** Probabilities kept per prediction: one per class. */
  private readonly width: number;

  constructor(
    private readonly profile: DriftProfile,
    readonly capacity: number,
  ) {
    const classes = profile.classes.length;
    this.width = classes;
    this.predicted = new Int32Array(capacity);
    this.confidence = new Float64Array(capacity);
    this.topClasses = new Int32Array(capacity * classes).fill(-1);
    this.topProbabilities = new Float64Array(capacity * classes);
    // Per prediction: confidence bin, text length bin, unseen share bin, photo.
    this.inputBins = new Uint8Array(capacity * 4);
    this.classCounts = new Float64Array(classes);
    this.truePositives = new Float64Array(classes);
    this.support = new Float64Array(classes);
    this.confidenceCounts = new Float64Array(profile.confidenceShares.length);
    this.textLengthCounts = new Float64Array(profile.textLengthShares.length);
    this.unseenCounts = new Float64Array(profile.unseenShares.length);
  }

  /** Predictions in the window (at most `capacity`). */
  get count(): number {
    return this.size;
  }

  add(observation: DriftObservation): void {
    const slot = this.next;
    if (this.size === this.capacity) this.apply(slot, -1);
    else this.size++;
    this.next = (slot + 1) % this.capacity;
    const { profile } = this;
    this.predicted[slot] = observation.predicted;
    this.confidence[slot] = observation.confidence;
    const { width } = this;
    const base = slot * width;
    const k = Math.min(width, observation.topClasses.length);
    for (let i = 0; i < width; i++) {
      this.topClasses[base + i] = i < k ? observation.topClasses[i] : -1;
      this.topProbabilities[base + i] = i < k ? observation.topProbabilities[i] : 0;
    }
    const bins = slot * 4;
    this.inputBins[bins] = binOf(profile.confidenceEdges, observation.confidence);
    this.inputBins[bins + 1] = binOf(profile.textLengthEdges, observation.textLength);
    this.inputBins[bins + 2] = binOf(profile.unseenEdges, observation.unseenTokenShare);
    this.inputBins[bins + 3] = observation.hasImage ? 1 : 0;
    this.apply(slot, 1);
  }

  /** Adds (sign 1) or removes (sign -1) the prediction in `slot` from the counts. */
  private apply(slot: number, sign: 1 | -1): void {
    const predicted = this.predicted[slot];
    this.classCounts[predicted] += sign;
    this.truePositives[predicted] += sign * this.confidence[slot];
    const base = slot * this.width;
    for (let i = 0; i < this.width; i++) {
      const c = this.topClasses[base + i];
      if (c >= 0) this.support[c] += sign * this.topProbabilities[base + i];
    }
    const bins = slot * 4;
    this.confidenceCounts[this.inputBins[bins]] += sign;
    this.textLengthCounts[this.inputBins[bins + 1]] += sign;
    this.unseenCounts[this.inputBins[bins + 2]] += sign;
    this.photoCounts[this.inputBins[bins + 3]] += sign;
  }

  /** Weighted F1 the window's calibrated probabilities promise (see estimatedWeightedF1). */
  estimatedF1(): number {
    return estimatedWeightedF1(this.classCounts, this.truePositives, this.support);
  }

  /** Each signal's distance from the reference, or from other distributions (0 for an empty window). */
  signals(reference: Distributions = this.profile): SignalValues {
    const { size } = this;
    return {
      class_mix: jensenShannonDistance(this.classCounts, size, reference.classShares),
      confidence: jensenShannonDistance(this.confidenceCounts, size, reference.confidenceShares),
      text_length: jensenShannonDistance(this.textLengthCounts, size, reference.textLengthShares),
      unseen_tokens: jensenShannonDistance(this.unseenCounts, size, reference.unseenShares),
      photo_share: jensenShannonDistance(this.photoCounts, size, reference.photoShares),
      estimated_f1_drop: size > 0 ? Math.max(0, reference.estimatedF1 - this.estimatedF1()) : 0,
    };
  }

  /** The window's own distributions (to compare other windows with it). */
  distributions(): Distributions {
    const share = (counts: Float64Array) => counts.map((count) => (this.size > 0 ? count / this.size : 0));
    return {
      classShares: share(this.classCounts),
      confidenceShares: share(this.confidenceCounts),
      textLengthShares: share(this.textLengthCounts),
      unseenShares: share(this.unseenCounts),
      photoShares: share(this.photoCounts),
      estimatedF1: this.estimatedF1(),
    };
  }

  /** Share of the window each class takes, and the reference's share, for the classes that moved most. */
  classShifts(limit: number): { index: number; windowShare: number; referenceShare: number }[] {
    const { size, profile } = this;
    const shifts = Array.from(this.classCounts, (count, index) => ({
      index,
      windowShare: size > 0 ? count / size : 0,
      referenceShare: profile.classShares[index],
    }));
    return shifts
      .sort(
        (a, b) =>
          Math.abs(b.windowShare - b.referenceShare) - Math.abs(a.windowShare - a.referenceShare) ||
          a.index - b.index,
      )
      .slice(0, limit);
  }

  /** Empties the window, keeping its arrays. */
  clear(): void {
    this.size = 0;
    this.next = 0;
    for (const counts of [
      this.classCounts,
      this.truePositives,
      this.support,
      this.confidenceCounts,
      this.textLengthCounts,
      this.unseenCounts,
      this.photoCounts,
    ]) {
      counts.fill(0);
    }
  }
}
