/**
 * When a write-behind buffer is written: `delayMs` after something is added (one timer at a time), one flush at a
 * time (a second caller joins the first), and, while flushing fails, again after a delay that doubles up to
 * `maxRetryDelayMs`. The timer does not keep the process alive.
 */
export class FlushScheduler {
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<void>;
  private failures = 0;

  constructor(
    private readonly write: () => Promise<void>,
    /** Told of each failed scheduled flush; the next try is already scheduled. */
    private readonly onFailure: (error: Error) => void,
    private readonly delayMs = 200,
    private readonly maxRetryDelayMs = 10_000,
  ) {}

  /** Flushes after the delay, unless a flush is scheduled already. */
  request(): void {
    this.schedule(this.delayMs);
  }

  /** Flushes now; resolves when the write is done, or rejects with its error (nothing is retried then). */
  flush(): Promise<void> {
    this.flushing ??= this.write().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  /** Drops the scheduled flush (at shutdown, before the last one). */
  cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(delay: number): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush().then(
        () => {
          this.failures = 0;
        },
        (error: Error) => {
          this.failures++;
          this.onFailure(error);
          this.schedule(Math.min(this.maxRetryDelayMs, this.delayMs * 2 ** this.failures));
        },
      );
    }, delay);
    this.timer.unref();
  }
}
