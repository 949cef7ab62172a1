export {
  DRIFT_REFERENCE_FILE,
  DriftReferenceError,
  parseDriftReference,
  type DriftReference,
  type DriftReferenceRow,
} from './drift-reference';
export { DRIFT_SIGNALS, DriftProfile, jensenShannonDistance, type DriftSignal } from './drift-profile';
export { DriftWindow } from './drift-window';
export { bootstrapThresholds, thresholdSizes } from './drift-thresholds';
export {
  DriftMonitor,
  VersionDrift,
  type AnsweredPrediction,
  type ClassShift,
  type DriftSettings,
  type SignalReport,
  type VersionDriftReport,
} from './drift-monitor';
