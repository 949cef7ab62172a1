import { monitorEventLoopDelay } from 'node:perf_hooks';
import { isMainThread } from 'node:worker_threads';

/**
 * Preloaded (`-r`) into a process under test: on SIGUSR2, writes the longest event-loop delay since the previous
 * SIGUSR2 to stderr as `event-loop-probe max=<ms>`, so that a test can measure how long a stretch of work held the
 * loop (every request and socket timer waits that long).
 */
// Worker threads inherit the -r option; the loop that serves HTTP is the main thread's.
if (isMainThread) {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  process.on('SIGUSR2', () => {
    process.stderr.write(`event-loop-probe max=${(delay.max / 1e6).toFixed(1)}\n`);
    delay.reset();
  });
}
