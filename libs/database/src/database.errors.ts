import { QueryFailedError } from 'typeorm';

const UNIQUE_VIOLATION_CODES = new Set([
  // PostgreSQL unique_violation
  '23505',
  // better-sqlite3 extended result codes
  'SQLITE_CONSTRAINT_PRIMARYKEY',
  'SQLITE_CONSTRAINT_UNIQUE',
]);

/** Whether a failed query broke a primary key or unique constraint, on either driver. */
export function isUniqueViolation(error: unknown): boolean {
  if (!(error instanceof QueryFailedError)) return false;
  const code = (error.driverError as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && UNIQUE_VIOLATION_CODES.has(code);
}
