import {
  acceptanceThreshold,
  coverageCurve,
  expectedCalibrationError,
  reliabilityTable,
  type CoveragePoint,
  type ReliabilityBin,
} from './calibration.report';
import { applyTemperature, fitTemperature, negativeLogLikelihood } from './temperature-scaling.util';

/** Which inputs an answer is based on: each has its own temperature and curve. */
export type Modality = 'text' | 'image' | 'text+image';
export const MODALITIES: readonly Modality[] = ['text', 'image', 'text+image'];

/**
 * Below this many held-out rows a modality is not calibrated: a temperature fitted on a handful of rows is noise,
 * and its curve could not support any promise. Such a modality is served at temperature 1 and never accepted
 * automatically.
 */
export const MIN_CALIBRATION_ROWS = 15;

/** What calibration did for one modality, measured on the held-out slice. */
export interface ModalityCalibration {
  temperature: number;
  /** Held-out rows scored with this modality. */
  n: number;
  accuracy: number;
  /** Expected calibration error of the top probability, before and after the temperature. */
  ece: { before: number; after: number };
  /** Mean negative log-likelihood of the true class, before and after. */
  nll: { before: number; after: number };
  reliability: { before: ReliabilityBin[]; after: ReliabilityBin[] };
  /** After calibration: at each threshold, the share of held-out predictions at or above it and their accuracy. */
  curve: CoveragePoint[];
}

/** The calibration of a model version: stored in its artifact (calibration.json) and in its metrics. */
export interface ModelCalibration {
  schema: 1;
  method: 'temperature';
  /** The held-out slice: cut from the training side, never trained on, not in the gate's evaluation split. */
  heldOut: { fraction: number; seed: number; products: number; imageOnly: number; withheldTwins: number };
  modalities: Partial<Record<Modality, ModalityCalibration>>;
}

/**
 * Fits the temperature of one modality on held-out probabilities (rows × classes) and the true class indices, and
 * measures what it changes. Undefined below MIN_CALIBRATION_ROWS rows.
 */
export function calibrateModality(
  probs: Float32Array,
  labels: ArrayLike<number>,
  numClasses: number,
): ModalityCalibration | undefined {
  const n = labels.length;
  if (n < MIN_CALIBRATION_ROWS) return undefined;
  const temperature = fitTemperature(probs, labels, numClasses);
  const before = topOfRows(probs, labels, numClasses, 1);
  const after = topOfRows(probs, labels, numClasses, temperature);
  const tableBefore = reliabilityTable(before.confidences, before.correct);
  const tableAfter = reliabilityTable(after.confidences, after.correct);
  return {
    temperature,
    n,
    accuracy: before.correct.filter(Boolean).length / n,
    ece: { before: expectedCalibrationError(tableBefore), after: expectedCalibrationError(tableAfter) },
    nll: {
      before: negativeLogLikelihood(probs, labels, numClasses),
      after: negativeLogLikelihood(probs, labels, numClasses, temperature),
    },
    reliability: { before: tableBefore, after: tableAfter },
    curve: coverageCurve(after.confidences, after.correct),
  };
}

/** The temperature a modality is served at: 1 for a model without calibration (older artifacts) or that modality. */
export function temperatureOf(calibration: ModelCalibration | undefined, modality: Modality): number {
  return calibration?.modalities[modality]?.temperature ?? 1;
}

/**
 * Each modality's acceptance threshold for a target precision, from its held-out curve: 1 (nothing accepted
 * automatically) for a modality the version has no curve for.
 */
export function acceptanceThresholds(
  calibration: ModelCalibration | undefined,
  targetPrecision: number,
): Record<Modality, number> {
  const threshold = (modality: Modality) => {
    const curve = calibration?.modalities[modality]?.curve;
    return curve ? acceptanceThreshold(curve, targetPrecision) : 1;
  };
  return { text: threshold('text'), image: threshold('image'), 'text+image': threshold('text+image') };
}

/** Each row's top probability after the temperature, and whether its argmax is the true class. */
function topOfRows(
  probs: Float32Array,
  labels: ArrayLike<number>,
  numClasses: number,
  temperature: number,
): { confidences: number[]; correct: boolean[] } {
  const row = new Float32Array(numClasses);
  const confidences: number[] = [];
  const correct: boolean[] = [];
  for (let i = 0; i < labels.length; i++) {
    applyTemperature(probs.subarray(i * numClasses, (i + 1) * numClasses), temperature, row);
    let best = 0;
    for (let k = 1; k < numClasses; k++) if (row[k] > row[best]) best = k;
    confidences.push(row[best]);
    correct.push(best === labels[i]);
  }
  return { confidences, correct };
}
