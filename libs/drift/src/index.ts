export {
  DRIFT_REFERENCE_DOCUMENT,
  DriftReferenceError,
  parseDriftReference,
  type DriftReference,
  type DriftReferenceRow,
} from './drift-reference.schema';
export { DRIFT_SIGNALS, DriftProfile, jensenShannonDistance, type DriftSignal } from './drift-profile.stats';
export { DriftWindow } from './drift-window.stats';
export { bootstrapThresholds, thresholdSizes } from './drift-thresholds.stats';
export {
  DriftMonitor,
  VersionDrift,
  type AnsweredPrediction,
  type ClassShift,
  type DriftSettings,
  type SignalReport,
  type VersionDriftReport,
} from './drift-monitor.service';
export { AuditBoosts, type AuditBoost, type AuditBoostSettings } from './audit-boosts.store';
export { DriftAlertAction, type DriftAlertOutcome } from './drift-alerts.service';
