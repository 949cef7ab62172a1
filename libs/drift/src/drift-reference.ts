/** The file h20-calib's training step writes beside a version's artifact (see docs/drift.md). */
export const DRIFT_REFERENCE_FILE = 'drift-reference.json';

/** One held-out prediction of the version, with its calibrated probabilities and the input statistics. */
export interface DriftReferenceRow {
  predicted: number;
  confidence: number;
  /** Calibrated probability of each class, in the order of `classes`. */
  probabilities: number[];
  label: number;
  textLength: number;
  unseenTokenShare: number;
  hasImage: boolean;
}

export interface DriftReference {
  schema: 1;
  classes: number[];
  rows: DriftReferenceRow[];
}

/** The reference file is missing pieces or holds values the monitor cannot use. */
export class DriftReferenceError extends Error {
  constructor(detail: string) {
    super(`drift reference cannot be used: ${detail}`);
    this.name = 'DriftReferenceError';
  }
}

const finite = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

/** Checks a parsed reference file, naming the first row and field that is wrong. */
export function parseDriftReference(json: unknown): DriftReference {
  const reference = json as Partial<DriftReference> | null;
  if (!reference || reference.schema !== 1) throw new DriftReferenceError('schema must be 1');
  const { classes, rows } = reference;
  if (!Array.isArray(classes) || classes.length < 2 || !classes.every(Number.isInteger)) {
    throw new DriftReferenceError('classes must list at least two product type codes');
  }
  if (!Array.isArray(rows) || rows.length === 0) throw new DriftReferenceError('rows must not be empty');
  const known = new Set(classes);
  rows.forEach((row, i) => {
    const bad = (field: string) => new DriftReferenceError(`rows[${i}].${field} is missing or invalid`);
    if (!known.has(row.predicted)) throw bad('predicted');
    if (!finite(row.confidence) || row.confidence < 0 || row.confidence > 1) throw bad('confidence');
    if (!Array.isArray(row.probabilities) || row.probabilities.length !== classes.length) {
      throw bad('probabilities');
    }
    if (!row.probabilities.every((p) => finite(p) && p >= 0)) throw bad('probabilities');
    if (!finite(row.textLength) || row.textLength < 0) throw bad('textLength');
    if (!finite(row.unseenTokenShare) || row.unseenTokenShare < 0 || row.unseenTokenShare > 1) {
      throw bad('unseenTokenShare');
    }
    if (typeof row.hasImage !== 'boolean') throw bad('hasImage');
  });
  return reference as DriftReference;
}
