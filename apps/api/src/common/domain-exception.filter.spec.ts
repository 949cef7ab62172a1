import type { ArgumentsHost } from '@nestjs/common';
import { AlreadyInProductionError, ModelVersionNotFoundError } from '@app/registry';
import { QueueUnavailableError } from '@app/queue';
import { DomainExceptionFilter, dependencyOutage } from './domain-exception.filter';

/** What the filter answers for an error: status and JSON body, through a stand-in for Express's response. */
function answer(exception: unknown): { status: number; body: Record<string, unknown> } {
  const sent = { status: 0, body: {} as Record<string, unknown> };
  const res = {
    headersSent: false,
    setHeader: () => res,
    status: (status: number) => ((sent.status = status), res),
    json: (body: Record<string, unknown>) => ((sent.body = body), res),
  };
  const host = { switchToHttp: () => ({ getResponse: () => res }) } as unknown as ArgumentsHost;
  new DomainExceptionFilter().catch(exception, host);
  return sent;
}

describe('DomainExceptionFilter', () => {
  it('names the status as Nest’s own exceptions do ("Not Found", not "NOT_FOUND")', () => {
    expect(answer(new ModelVersionNotFoundError('v9'))).toEqual({
      status: 404,
      body: { statusCode: 404, error: 'Not Found', message: expect.stringContaining('v9') },
    });
    expect(answer(new AlreadyInProductionError('v2')).body.error).toBe('Conflict');
    expect(answer(new QueueUnavailableError('down')).body.error).toBe('Service Unavailable');
    expect(answer(Object.assign(new Error('too large'), { status: 413, expose: true })).body).toEqual({
      statusCode: 413,
      error: 'Payload Too Large',
      message: 'too large',
    });
  });
});

describe('dependencyOutage', () => {
  it('recognises unreachable services by error code or driver message, also when wrapped', () => {
    expect(
      dependencyOutage(
        Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
      ),
    ).toBe('ECONNREFUSED');
    expect(dependencyOutage(new Error('Connection terminated unexpectedly'))).toBe(
      'Connection terminated unexpectedly',
    );
    const wrapped = new Error('query failed', {
      cause: Object.assign(new Error('reset'), { code: 'ECONNRESET' }),
    });
    expect(dependencyOutage(wrapped)).toBe('ECONNRESET');
  });

  it('leaves programming errors and caller mistakes alone', () => {
    expect(dependencyOutage(new TypeError('x is undefined'))).toBeUndefined();
    expect(dependencyOutage(new Error('duplicate key value violates unique constraint'))).toBeUndefined();
    expect(dependencyOutage(undefined)).toBeUndefined();
  });
});
