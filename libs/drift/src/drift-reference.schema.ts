import type { DriftReference, DriftReferenceRow } from '@app/ml';

// The format is the training step's own (written by @app/ml's held-out calibrator): one declaration of it.
export type { DriftReference, DriftReferenceRow };

/**
 * The artifact document the training step writes (classifier.save(dir, { 'drift-reference': reference, ... })), so
 * that it lands in the artifact as drift-reference.json, listed and checksummed in model.json and uploaded with the
 * version (see docs/drift.md).
 */
export const DRIFT_REFERENCE_DOCUMENT = 'drift-reference';

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
  if (!Array.isArray(rows)) throw new DriftReferenceError('rows must be a list');
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
