import type { LogLevel } from '@nestjs/common';
import { AppLogger, terminalWantsColour } from './app-logger.service';
import { LogContext } from './log-context.store';

/** The escape that starts every colour code. */
const ANSI = new RegExp(String.fromCharCode(27) + '\\[');
const DEFAULT_LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'log'];

/** The lines `write` sends to stdout and stderr. */
function capture(write: () => void): string[] {
  const out: string[] = [];
  const spies = (['stdout', 'stderr'] as const).map((stream) =>
    jest.spyOn(process[stream], 'write').mockImplementation((chunk: string | Uint8Array) => {
      out.push(String(chunk));
      return true;
    }),
  );
  try {
    write();
  } finally {
    spies.forEach((spy) => spy.mockRestore());
  }
  return out.join('').split('\n').filter(Boolean);
}

describe('AppLogger', () => {
  it('writes a plain text line: time, level, context, message, no colour codes when not told to colour', () => {
    const logger = new AppLogger({ format: 'text', levels: DEFAULT_LEVELS, colors: false });
    const [line] = capture(() => logger.log('API listening on port 3000', 'Bootstrap'));
    expect(line).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z +LOG \[Bootstrap\] API listening on port 3000$/,
    );
    expect(line).not.toMatch(ANSI);
  });

  it('colours text only when asked (a terminal)', () => {
    const logger = new AppLogger({ format: 'text', levels: DEFAULT_LEVELS, colors: true });
    const [line] = capture(() => logger.warn('careful', 'Auth'));
    expect(line).toMatch(ANSI);
  });

  it('never colours JSON, even when colours are asked for', () => {
    const logger = new AppLogger({ format: 'json', levels: DEFAULT_LEVELS, colors: true });
    const [line] = capture(() => logger.warn('careful', 'Auth'));
    expect(line).not.toMatch(ANSI);
  });

  it('colours by default only on a terminal without NO_COLOR', () => {
    const noColor = process.env.NO_COLOR;
    try {
      delete process.env.NO_COLOR;
      expect(terminalWantsColour({ isTTY: true })).toBe(true);
      expect(terminalWantsColour({ isTTY: false })).toBe(false);
      expect(terminalWantsColour({})).toBe(false);
      process.env.NO_COLOR = '1';
      expect(terminalWantsColour({ isTTY: true })).toBe(false);
    } finally {
      if (noColor === undefined) delete process.env.NO_COLOR;
      else process.env.NO_COLOR = noColor;
    }
  });

  it("moves Nest's module and route mapping lines to debug", () => {
    const quiet = new AppLogger({ format: 'text', levels: DEFAULT_LEVELS, colors: false });
    const chatter = () => {
      quiet.log('AppModule dependencies initialized', 'InstanceLoader');
      quiet.log('PredictionController {/v1/predictions}:', 'RoutesResolver');
      quiet.log('Mapped {/v1/predictions, POST} route', 'RouterExplorer');
      quiet.log('Nest application successfully started', 'NestApplication');
    };
    expect(capture(chatter)).toEqual([expect.stringContaining('Nest application successfully started')]);

    const verbose = new AppLogger({ format: 'text', levels: [...DEFAULT_LEVELS, 'debug'], colors: false });
    const lines = capture(() => {
      verbose.log('Mapped {/v1/predictions, POST} route', 'RouterExplorer');
    });
    expect(lines).toEqual([
      expect.stringMatching(/DEBUG \[RouterExplorer\] Mapped \{\/v1\/predictions, POST\} route/),
    ]);
  });

  it('writes one JSON object per line with the level, context, message and the fields of the work in progress', () => {
    const logger = new AppLogger({ format: 'json', levels: DEFAULT_LEVELS });
    const lines = capture(() => {
      logger.log('outside any request', 'Bootstrap');
      LogContext.run({ requestId: 'req-1' }, () => {
        LogContext.assign({ modelVersion: 'v7' });
        logger.warn('inside a request', 'Predictions');
      });
      LogContext.run({ jobId: 'job-9' }, () => {
        LogContext.run({ modelVersion: 'v8' }, () => logger.error('a multi\nline message', 'Retraining'));
      });
    });
    expect(lines).toHaveLength(3);
    const [outside, request, job] = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(outside).toEqual({
      level: 'log',
      pid: process.pid,
      timestamp: expect.any(Number),
      context: 'Bootstrap',
      message: 'outside any request',
    });
    expect(request).toMatchObject({
      level: 'warn',
      message: 'inside a request',
      requestId: 'req-1',
      modelVersion: 'v7',
    });
    expect(job).toMatchObject({
      level: 'error',
      message: 'a multi\nline message',
      jobId: 'job-9',
      modelVersion: 'v8',
    });
  });

  it('appends the fields of the work in progress to a text line', () => {
    const logger = new AppLogger({ format: 'text', levels: DEFAULT_LEVELS, colors: false });
    const [line] = capture(() =>
      LogContext.run({ jobId: 'job-9', modelVersion: 'v8' }, () =>
        logger.log('model 1/6, epoch 2', 'Retraining'),
      ),
    );
    expect(line).toMatch(/\[Retraining\] model 1\/6, epoch 2 \(job=job-9, model=v8\)$/);
  });

  it('leaves out levels below LOG_LEVEL', () => {
    const logger = new AppLogger({ format: 'json', levels: ['fatal', 'error', 'warn'] });
    expect(capture(() => logger.log('routine', 'X'))).toEqual([]);
    expect(capture(() => logger.warn('unusual', 'X'))).toHaveLength(1);
  });
});
