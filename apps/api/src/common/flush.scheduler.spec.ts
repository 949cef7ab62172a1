import { FlushScheduler } from './flush.scheduler';

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** Resolves once `check` holds; fails after 5 s. */
async function eventually(check: () => boolean): Promise<void> {
  const until = performance.now() + 5000;
  while (!check()) {
    if (performance.now() > until) throw new Error('condition not reached within 5 s');
    await sleep(5);
  }
}

describe('FlushScheduler', () => {
  it('writes once after the delay however many requests came, and one write at a time', async () => {
    let writes = 0;
    let release!: () => void;
    const scheduler = new FlushScheduler(
      async () => {
        writes++;
        await new Promise<void>((done) => (release = done));
      },
      () => undefined,
      20,
    );
    scheduler.request();
    scheduler.request();
    expect(writes).toBe(0);
    await eventually(() => writes === 1);
    const joined = scheduler.flush();
    release();
    await joined;
    await sleep(60);
    expect(writes).toBe(1);
  });

  it('retries a failed write with a doubling delay up to the cap, telling of each failure', async () => {
    const times: number[] = [];
    const failures: string[] = [];
    const scheduler = new FlushScheduler(
      async () => {
        times.push(performance.now());
        if (times.length < 5) throw new Error(`down ${times.length}`);
      },
      (error) => failures.push(error.message),
      10,
      40,
    );
    scheduler.request();
    await eventually(() => times.length === 5);
    expect(failures).toEqual(['down 1', 'down 2', 'down 3', 'down 4']);
    const gaps = times.slice(1).map((t, i) => t - times[i]);
    // 20, 40, 40, 40 ms: timers fire late, never early; without the cap the last two would take 240 ms.
    expect(gaps[0]).toBeGreaterThanOrEqual(19);
    expect(gaps[1]).toBeGreaterThanOrEqual(39);
    expect(gaps[2] + gaps[3]).toBeGreaterThanOrEqual(79);
    expect(gaps[2] + gaps[3]).toBeLessThan(200);
  });

  it('counts failures afresh after a success', async () => {
    const times: number[] = [];
    const scheduler = new FlushScheduler(
      async () => {
        times.push(performance.now());
        if (times.length === 1 || times.length === 3) throw new Error('down');
      },
      () => undefined,
      100,
    );
    scheduler.request();
    await eventually(() => times.length === 2);
    scheduler.request();
    await eventually(() => times.length === 4);
    // The first failure's delay (200 ms) again, not a second failure's (400 ms).
    expect(times[3] - times[2]).toBeGreaterThanOrEqual(199);
    expect(times[3] - times[2]).toBeLessThan(390);
  });

  it('cancel drops the scheduled write', async () => {
    let writes = 0;
    const scheduler = new FlushScheduler(
      async () => void writes++,
      () => undefined,
      10,
    );
    scheduler.request();
    scheduler.cancel();
    await sleep(60);
    expect(writes).toBe(0);
  });
});
