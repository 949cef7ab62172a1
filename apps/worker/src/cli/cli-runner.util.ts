import { parseArgs, type ParseArgsConfig } from 'node:util';
import { AppConfig, ConfigValidationError } from '@app/config';
import { ArtifactError, DatasetError, ImageDecodeError, InvalidInputError } from '@app/ml';
import { CorruptArtifactError, RegistrationError } from '@app/registry';
import {
  artifactStoreLocation,
  createArtifactStore,
  type ArtifactStore,
  type ArtifactStoreLocation,
} from '@app/storage';

/** A mistake in how the command was called: print the message and the usage, exit 2. */
export class UsageError extends Error {}

type Options = NonNullable<ParseArgsConfig['options']>;

export function parseCommandLine<T extends Options>(usage: string, options: T, argv = process.argv.slice(2)) {
  try {
    return parseArgs({ args: argv, options: { ...options, help: { type: 'boolean' } }, strict: true }).values;
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n\n${usage}`);
  }
}

export function requireOption(value: string | undefined, name: string, usage: string): string {
  if (!value) throw new UsageError(`--${name} is required\n\n${usage}`);
  return value;
}

export function numberOption(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed)) throw new UsageError(`--${name} must be a number, got "${value}"`);
  return parsed;
}

/**
 * The configured artifact store (S3_*, else the artifact directory under VAR_DIR), where image features are cached
 * by photo hash: a command shares the cache with the service and the worker.
 */
export function configuredFeatureStore(): ArtifactStore {
  try {
    return createArtifactStore(AppConfig.fromEnvironment());
  } catch (error) {
    if (error instanceof ConfigValidationError) throw new UsageError(error.message);
    throw error;
  }
}

/** Where the configured artifact store is, for a training step that may run in another process. */
export function configuredStoreLocation(): ArtifactStoreLocation {
  try {
    return artifactStoreLocation(AppConfig.fromEnvironment());
  } catch (error) {
    if (error instanceof ConfigValidationError) throw new UsageError(error.message);
    throw error;
  }
}

/** Progress and diagnostics go to stderr; stdout is reserved for the command's JSON result. */
export const progress = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

/**
 * Runs a command: errors the user can fix (a bad flag, a malformed data file, a corrupt model) are printed as one
 * readable message without a stack trace.
 */
export function runCli(usage: string, main: () => Promise<void>): void {
  if (process.argv.includes('--help')) {
    process.stdout.write(`${usage}\n`);
    return;
  }
  main().catch((error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`error: ${error.message}\n`);
      process.exit(2);
    }
    const userFacing = [
      DatasetError,
      ArtifactError,
      InvalidInputError,
      ImageDecodeError,
      ConfigValidationError,
      RegistrationError,
      CorruptArtifactError,
    ].some((type) => error instanceof type);
    process.stderr.write(
      userFacing ? `error: ${(error as Error).message}\n` : `${(error as Error).stack ?? String(error)}\n`,
    );
    process.exit(1);
  });
}
