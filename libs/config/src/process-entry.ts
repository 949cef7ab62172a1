import type { LogLevel } from '@nestjs/common';
import { AppConfig, ConfigValidationError } from './app-config';

const LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

/** The Nest log levels enabled by LOG_LEVEL: the named level and everything more severe. */
export function logLevels(config: AppConfig): LogLevel[] {
  return LEVELS.slice(0, LEVELS.indexOf(config.env.LOG_LEVEL) + 1);
}

/**
 * Entry point shared by every process: validate the environment once, run, and turn a bad configuration into
 * a readable message and exit code 1 instead of a stack trace.
 */
export function runProcess(main: (config: AppConfig) => Promise<void>): void {
  const start = async () => main(AppConfig.fromEnvironment());
  start().catch((error: unknown) => {
    console.error(error instanceof ConfigValidationError ? error.message : error);
    process.exit(1);
  });
}
