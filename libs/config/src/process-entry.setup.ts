import { Logger, type LogLevel } from '@nestjs/common';
import { AppConfig, ConfigValidationError } from './app.config';
import { AppLogger } from './app-logger.service';

const LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

/** The Nest log levels enabled by LOG_LEVEL: the named level and everything more severe. */
export function logLevels(config: AppConfig): LogLevel[] {
  return LEVELS.slice(0, LEVELS.indexOf(config.env.LOG_LEVEL) + 1);
}

/** The logger a process hands to Nest: LOG_LEVEL's levels in LOG_FORMAT. */
export function processLogger(config: AppConfig): AppLogger {
  return new AppLogger({ format: config.env.LOG_FORMAT, levels: logLevels(config) });
}

/**
 * Entry point shared by every process: validate the environment once, run, and turn a bad configuration into
 * a readable message and exit code 1 instead of a stack trace.
 */
export function runProcess(main: (config: AppConfig) => Promise<void>): void {
  const start = async () => main(AppConfig.fromEnvironment());
  start().catch((error: unknown) => {
    // A bad configuration is reported before there is a logger to format it (LOG_FORMAT may be the bad part).
    if (error instanceof ConfigValidationError) console.error(error.message);
    else Logger.fatal(error instanceof Error ? (error.stack ?? error.message) : String(error), 'Bootstrap');
    process.exit(1);
  });
}

const STOP_SIGNALS = ['SIGTERM', 'SIGINT'] as const;
/** How often a process started by an npm script checks that its parent is still there. */
const PARENT_CHECK_MS = 1_000;

/**
 * Runs `stop` once when the process is asked to stop, then exits 0 (1 when `stop` fails). Asked to stop means:
 * - SIGTERM or SIGINT, however many arrive. Ctrl-C in a terminal reaches both npm and node, and npm forwards its
 *   copy too: a second signal must not cut the drain short, as the default action would.
 * - When started by an npm script, the parent going away. The npm scripts `exec` node, so npm is the parent and
 *   forwards SIGTERM and SIGINT; killed with SIGKILL it forwards nothing, and node would keep serving on the port.
 */
export function onStopRequest(stop: (reason: string) => Promise<void>): void {
  let stopping = false;
  const parent = process.ppid;
  const watch = process.env.npm_lifecycle_event
    ? setInterval(() => {
        if (process.ppid !== parent) request(`the parent process (pid ${parent}) exited`);
      }, PARENT_CHECK_MS).unref()
    : undefined;
  function request(reason: string): void {
    if (stopping) return;
    stopping = true;
    clearInterval(watch);
    stop(reason).then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  }
  for (const signal of STOP_SIGNALS) process.on(signal, () => request(`${signal} received`));
}
