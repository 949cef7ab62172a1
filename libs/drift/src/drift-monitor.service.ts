import { readFile } from 'node:fs/promises';
import { join, normalize } from 'node:path';
import { sha256 } from '@app/checksum';
import {
  describeInput,
  InputVocabulary,
  runInSlices,
  runNow,
  type ArtifactManifest,
  type PredictionInput,
  type SlicedWork,
} from '@app/ml';
import { DRIFT_SIGNALS, DriftProfile, type DriftSignal } from './drift-profile.stats';
import {
  DRIFT_REFERENCE_DOCUMENT,
  DriftReferenceError,
  parseDriftReference,
  type DriftReference,
} from './drift-reference.schema';
import { bootstrapThresholds, thresholdsFor, type ThresholdTable } from './drift-thresholds.stats';
import { DriftWindow } from './drift-window.stats';

export interface DriftSettings {
  /** Predictions per version in the sliding window (DRIFT_WINDOW). */
  window: number;
  /** No signal is judged on fewer (DRIFT_MIN_WINDOW). */
  minWindow: number;
  /** Bootstrap quantile a signal must exceed (DRIFT_QUANTILE). */
  quantile: number;
  /** Bootstrap windows drawn per size (DRIFT_BOOTSTRAP_DRAWS). */
  draws: number;
}

/** A prediction as the classifier answered it: the class, its calibrated probability, every class it scored. */
export interface AnsweredPrediction {
  prdtypecode: number;
  probability: number;
  top: readonly { prdtypecode: number; probability: number }[];
}

export interface SignalReport {
  signal: DriftSignal;
  value: number;
  /** Null below the minimum window: the signal is not judged. */
  threshold: number | null;
  drifting: boolean;
}

export interface ClassShift {
  prdtypecode: number;
  windowShare: number;
  referenceShare: number;
}

export interface VersionDriftReport {
  modelVersion: string;
  /** False when the version's artifact has no drift reference: nothing is watched. */
  hasReference: boolean;
  /** Predictions in the window now, and the window's capacity. */
  predictions: number;
  window: number;
  minWindow: number;
  judged: boolean;
  estimatedF1: number | null;
  /** The reference's estimated F1 and its true F1 (from its labels), for comparison. */
  referenceEstimatedF1: number | null;
  referenceF1: number | null;
  signals: SignalReport[];
  /** The classes whose share of predictions moved most from the reference, largest move first. */
  classShifts: ClassShift[];
}

const SHIFTS_SHOWN = 5;

/** One version's reference, thresholds, vocabulary and window of predictions. */
export class VersionDrift {
  private readonly window: DriftWindow;
  private readonly thresholds: ThresholdTable;

  constructor(
    readonly version: string,
    private readonly profile: DriftProfile,
    private readonly vocabulary: InputVocabulary,
    private readonly settings: DriftSettings,
    thresholds: ThresholdTable,
  ) {
    this.window = new DriftWindow(profile, settings.window);
    this.thresholds = thresholds;
  }

  /** Adds answered predictions to the window: a few counters each, and one pass over the words of the text. */
  observe(inputs: readonly PredictionInput[], predictions: readonly AnsweredPrediction[]): void {
    const { profile } = this;
    predictions.forEach((prediction, i) => {
      const predicted = profile.indexOf(prediction.prdtypecode);
      if (predicted < 0) return;
      const top = prediction.top;
      this.window.add({
        predicted,
        confidence: prediction.probability,
        topClasses: top.map((entry) => profile.indexOf(entry.prdtypecode)),
        topProbabilities: top.map((entry) => entry.probability),
        ...describeInput(this.vocabulary, inputs[i]),
      });
    });
  }

  report(): VersionDriftReport {
    const { window, settings, profile } = this;
    const count = window.count;
    const judged = count >= settings.minWindow;
    const thresholds = judged ? thresholdsFor(this.thresholds, count) : undefined;
    const values = window.signals();
    return {
      modelVersion: this.version,
      hasReference: true,
      predictions: count,
      window: settings.window,
      minWindow: settings.minWindow,
      judged,
      estimatedF1: count > 0 ? window.estimatedF1() : null,
      referenceEstimatedF1: profile.estimatedF1,
      referenceF1: profile.trueF1,
      signals: DRIFT_SIGNALS.map((signal) => ({
        signal,
        value: values[signal],
        threshold: thresholds ? thresholds[signal] : null,
        drifting: thresholds !== undefined && values[signal] > thresholds[signal],
      })),
      classShifts: window.classShifts(SHIFTS_SHOWN).map(({ index, windowShare, referenceShare }) => ({
        prdtypecode: profile.classes[index],
        windowShare,
        referenceShare,
      })),
    };
  }
}

/**
 * Drift watch per serving version: each version's reference comes with its artifact (drift-reference.json, written
 * at training time), its thresholds are drawn from it once when the version is tracked, and every prediction the
 * version answers goes into its window. Windows are per replica: each watches the traffic it serves.
 */
export class DriftMonitor {
  private readonly versions = new Map<string, VersionDrift | null>();

  constructor(
    readonly settings: DriftSettings,
    /** False: nothing is loaded or observed (DRIFT_MONITORING=false). */
    readonly enabled = true,
  ) {}

  /**
   * Reads a version's reference (the artifact's `drift-reference` document, checksum verified) and vocabulary from
   * its artifact directory; null for an artifact without one, or with an empty one (the version serves, unwatched).
   * The thresholds are drawn in slices with turns of the event loop between them: a serving process loads a
   * version while it answers requests.
   */
  async load(version: string, dir: string): Promise<VersionDrift | null> {
    if (!this.enabled) return null;
    const manifest = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as ArtifactManifest;
    const entry = manifest.documents?.[DRIFT_REFERENCE_DOCUMENT];
    if (!entry) return null;
    if (normalize(entry.path).startsWith('..'))
      throw new DriftReferenceError(`${entry.path} leaves the artifact`);
    const bytes = await readFile(join(dir, entry.path));
    if (sha256(bytes) !== entry.sha256) throw new DriftReferenceError(`checksum mismatch for ${entry.path}`);
    const reference = parseDriftReference(JSON.parse(bytes.toString('utf8')));
    // A held-out slice too small to keep any row (a tiny training set) gives nothing to compare with.
    if (reference.rows.length === 0) return null;
    return runInSlices(this.building(version, reference, InputVocabulary.load(dir)));
  }

  build(version: string, reference: DriftReference, vocabulary: InputVocabulary): VersionDrift {
    return runNow(this.building(version, reference, vocabulary));
  }

  private *building(
    version: string,
    reference: DriftReference,
    vocabulary: InputVocabulary,
  ): SlicedWork<VersionDrift> {
    const profile = new DriftProfile(reference);
    const thresholds = yield* bootstrapThresholds(profile, this.settings);
    return new VersionDrift(version, profile, vocabulary, this.settings, thresholds);
  }

  /** Starts watching `version` (the one this replica now serves), with its drift state or null for none. */
  track(version: string, drift: VersionDrift | null): void {
    if (!this.enabled) return;
    this.versions.set(version, drift);
  }

  /** Stops watching a version this replica no longer serves: its series leave /metrics. */
  forget(version: string): void {
    this.versions.delete(version);
  }

  observe(
    version: string,
    inputs: readonly PredictionInput[],
    predictions: readonly AnsweredPrediction[],
  ): void {
    this.versions.get(version)?.observe(inputs, predictions);
  }

  reports(): VersionDriftReport[] {
    return [...this.versions.entries()].map(([version, drift]) =>
      drift
        ? drift.report()
        : {
            modelVersion: version,
            hasReference: false,
            predictions: 0,
            window: this.settings.window,
            minWindow: this.settings.minWindow,
            judged: false,
            estimatedF1: null,
            referenceEstimatedF1: null,
            referenceF1: null,
            signals: [],
            classShifts: [],
          },
    );
  }
}
