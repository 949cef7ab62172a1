/** Failed logins for one username within this window count towards its slowdown. */
const WINDOW_MS = 15 * 60_000;
/** Failures answered at once before the slowdown starts (typos happen). */
const FREE_FAILURES = 3;
const BASE_DELAY_MS = 500;
const MAX_DELAY_MS = 10_000;
const MAX_TRACKED = 10_000;

/**
 * Slows down password guessing: after a few failed logins for a username, each further failure is answered only
 * after a delay that doubles up to 10 s, until 15 minutes pass without failure or a login succeeds. Keyed by
 * username, not address, so that an attacker spreading guesses over addresses is slowed too; a delay rather than
 * a lockout, so that nobody can lock a user out. Per process (the per-address token rate limit is shared through
 * Redis when REDIS_URL is set).
 */
export class LoginAttempts {
  private readonly failures = new Map<string, { count: number; last: number }>();

  constructor(private readonly sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms))) {}

  /** Records a failure and waits the delay it earns. */
  async failed(username: string, now = Date.now()): Promise<void> {
    const key = username.trim().toLowerCase();
    const previous = this.failures.get(key);
    const count = previous && now - previous.last < WINDOW_MS ? previous.count + 1 : 1;
    if (!previous && this.failures.size >= MAX_TRACKED) this.evict(now);
    this.failures.set(key, { count, last: now });
    const delay = LoginAttempts.delayAfter(count);
    if (delay > 0) await this.sleep(delay);
  }

  succeeded(username: string): void {
    this.failures.delete(username.trim().toLowerCase());
  }

  static delayAfter(failures: number): number {
    if (failures <= FREE_FAILURES) return 0;
    return Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** (failures - FREE_FAILURES - 1));
  }

  private evict(now: number): void {
    for (const [key, entry] of this.failures) if (now - entry.last >= WINDOW_MS) this.failures.delete(key);
    // Still full: forget the oldest half rather than grow without bound.
    if (this.failures.size >= MAX_TRACKED) {
      [...this.failures.keys()].slice(0, MAX_TRACKED / 2).forEach((key) => this.failures.delete(key));
    }
  }
}
