import { LoginAttempts } from './login-attempts.service';

describe('LoginAttempts', () => {
  it('answers the first failures at once, then doubles the delay up to 10 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9, 12].map((n) => LoginAttempts.delayAfter(n))).toEqual([
      0, 0, 0, 500, 1000, 2000, 4000, 8000, 10_000, 10_000,
    ]);
  });

  it('waits after repeated failures for one username, whatever its case, until a success', async () => {
    const waits: number[] = [];
    const attempts = new LoginAttempts(async (ms) => void waits.push(ms));
    for (let i = 0; i < 5; i++) await attempts.failed(i % 2 ? 'Alice' : 'alice');
    expect(waits).toEqual([500, 1000]);
    attempts.succeeded('ALICE');
    await attempts.failed('alice');
    await attempts.failed('bob');
    expect(waits).toEqual([500, 1000]);
  });

  it('forgets failures older than 15 minutes', async () => {
    const waits: number[] = [];
    const attempts = new LoginAttempts(async (ms) => void waits.push(ms));
    const start = Date.now();
    for (let i = 0; i < 4; i++) await attempts.failed('carol', start);
    expect(waits).toEqual([500]);
    await attempts.failed('carol', start + 16 * 60_000);
    expect(waits).toEqual([500]);
  });
});
