import { dependencyOutage } from './domain-exception.filter';

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
