import { ConsoleLogger, type LogLevel } from '@nestjs/common';
import { LogContext, type LogFields } from './log-context.store';

/**
 * Nest's start-up chatter: a line per module initialised and per route mapped (62 of the 95 lines of a first
 * boot). Shown with LOG_LEVEL=debug.
 */
const START_UP_DETAIL = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer']);

/** How the fields of LogContext read in a text line. */
const TEXT_LABELS: Record<keyof LogFields, string> = {
  requestId: 'request',
  jobId: 'job',
  modelVersion: 'model',
};

export interface AppLoggerOptions {
  format: 'json' | 'text';
  levels: LogLevel[];
  /** Colour in text lines; default: only when stdout is a terminal and NO_COLOR is not set. */
  colors?: boolean;
}

/** Colour codes are for a person at a terminal: a file or a log collector would store them as garbage. */
export function terminalWantsColour(stream: { isTTY?: boolean } = process.stdout): boolean {
  return Boolean(stream.isTTY) && !process.env.NO_COLOR;
}

/**
 * The processes' logger. Text (LOG_FORMAT=text): one line per message, `<ISO time> <LEVEL> [Context] message
 * (request=…, job=…, model=…)`, coloured only on a terminal. JSON (LOG_FORMAT=json): one object per line with
 * `level`, `timestamp` (milliseconds since the epoch), `context`, `message`, `pid` and the LogContext fields where there are some.
 */
export class AppLogger extends ConsoleLogger {
  constructor({ format, levels, colors }: AppLoggerOptions) {
    const json = format === 'json';
    super({ json, logLevels: levels, colors: !json && (colors ?? terminalWantsColour()) });
  }

  override log(message: unknown, ...optionalParams: unknown[]): void {
    const context = optionalParams.at(-1);
    if (typeof context === 'string' && START_UP_DETAIL.has(context)) {
      this.debug(message, ...optionalParams);
      return;
    }
    super.log(message, ...optionalParams);
  }

  protected override getJsonLogObject(
    message: unknown,
    options: Parameters<ConsoleLogger['getJsonLogObject']>[1],
  ): ReturnType<ConsoleLogger['getJsonLogObject']> & LogFields {
    return { ...super.getJsonLogObject(message, options), ...LogContext.current() };
  }

  protected override getTimestamp(): string {
    return new Date().toISOString();
  }

  /** The process id is in every line of Nest's format; one process writes one stream, so it is left out. */
  protected override formatPid(): string {
    return '';
  }

  protected override formatMessage(
    logLevel: LogLevel,
    message: unknown,
    pidMessage: string,
    formattedLogLevel: string,
    contextMessage: string,
    timestampDiff: string,
  ): string {
    const fields = Object.entries(LogContext.current())
      .filter(([, value]) => value !== undefined)
      .map(([key, value]) => `${TEXT_LABELS[key as keyof LogFields]}=${String(value)}`);
    const suffix = fields.length ? ` (${fields.join(', ')})` : '';
    return super.formatMessage(
      logLevel,
      message,
      pidMessage,
      formattedLogLevel,
      contextMessage,
      `${suffix}${timestampDiff}`,
    );
  }
}
