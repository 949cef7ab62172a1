import { Queue, Worker, type Job } from 'bullmq';
import { randomUUID } from 'node:crypto';
import { BullMqRetrainingQueue } from './bullmq-retraining.queue';
import { runBullMqJob } from './bullmq-job.runner';
import { InProcessRetrainingQueue } from './in-process-retraining.queue';
import {
  JobInterruptedError,
  PermanentJobError,
  QueueUnavailableError,
  RETRAINING_QUEUE,
  type JobHandler,
  type RetrainingQueueJob,
} from './retraining-queue.types';

const REDIS = { host: '127.0.0.1', port: Number(process.env.TEST_REDIS_PORT ?? 6379) };

/** Resolves when `check` holds, polling; fails after `ms`. */
async function until(check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A handler that blocks until released, recording which jobs it ran. */
function gate() {
  const ran: string[] = [];
  let release!: () => void;
  let released = new Promise<void>((r) => (release = r));
  const handler: JobHandler = async (job) => {
    ran.push(job.id);
    await released;
  };
  return {
    ran,
    handler,
    release: () => {
      release();
      released = new Promise<void>((r) => (release = r));
    },
  };
}

describe('BullMqRetrainingQueue (real Redis)', () => {
  let prefix: string;
  let queue: BullMqRetrainingQueue;
  let workers: Worker[];
  const abort = new AbortController();

  beforeEach(() => {
    prefix = `test-${randomUUID()}`;
    queue = new BullMqRetrainingQueue(REDIS, prefix);
    workers = [];
  });
  afterEach(async () => {
    await Promise.all(workers.map((w) => w.close(true)));
    const raw = new Queue(RETRAINING_QUEUE, { connection: REDIS, prefix });
    await raw.obliterate({ force: true });
    await raw.close();
    await queue.close();
  });

  function startWorker(handler: JobHandler, signal = abort.signal): Worker {
    const worker: Worker = new Worker(
      RETRAINING_QUEUE,
      (job: Job<RetrainingQueueJob['data']>, token?: string) => runBullMqJob(job, token, signal, handler),
      { connection: REDIS, prefix, concurrency: 1, lockDuration: 5_000 },
    );
    worker.on('error', () => undefined);
    workers.push(worker);
    return worker;
  }

  it('keeps at most one job running and one waiting: requests while one waits return it', async () => {
    const blocker = gate();
    startWorker(blocker.handler);
    const first = await queue.enqueue('job-1');
    expect(first).toEqual({ jobId: 'job-1', deduplicated: false });
    await until(() => blocker.ran.length === 1);

    const results = [];
    for (let i = 2; i <= 11; i++) results.push(await queue.enqueue(`job-${i}`));
    expect(results[0]).toEqual({ jobId: 'job-2', deduplicated: false });
    expect(results.slice(1).every((r) => r.jobId === 'job-2' && r.deduplicated)).toBe(true);
    expect(await queue.counts()).toMatchObject({ active: 1, waiting: 1 });

    blocker.release();
    await until(() => blocker.ran.length === 2);
    expect(blocker.ran).toEqual(['job-1', 'job-2']);
    // Once job-2 runs, a new request is a new waiting job again.
    expect(await queue.enqueue('job-12')).toEqual({ jobId: 'job-12', deduplicated: false });
    blocker.release();
    await until(() => blocker.ran.length === 3);
    blocker.release();
    await until(async () => (await queue.counts()).completed === 3);
  });

  it('never runs two jobs at once, even with two workers', async () => {
    let running = 0;
    let most = 0;
    const handler: JobHandler = async () => {
      most = Math.max(most, ++running);
      await new Promise((r) => setTimeout(r, 150));
      running--;
    };
    startWorker(handler);
    startWorker(handler);
    await queue.enqueue('a');
    await until(() => most === 1);
    await queue.enqueue('b');
    await until(async () => (await queue.counts()).completed === 2);
    expect(most).toBe(1);
  });

  it('fails a job with a permanent error at once, without retries', async () => {
    let runs = 0;
    startWorker(async () => {
      runs++;
      throw new PermanentJobError('DATA_DIR /nowhere does not exist');
    });
    await queue.enqueue('bad');
    await until(async () => (await queue.counts()).failed === 1);
    const raw = new Queue(RETRAINING_QUEUE, { connection: REDIS, prefix });
    const job = await raw.getJob('bad');
    expect(job?.failedReason).toBe('DATA_DIR /nowhere does not exist');
    expect(job?.attemptsMade).toBe(1);
    expect(runs).toBe(1);
    await raw.close();
  });

  it('hands an interrupted job back without using an attempt; the next worker completes it', async () => {
    const stopping = new AbortController();
    const attempts: number[] = [];
    const first = startWorker(async (job) => {
      attempts.push(job.attempt);
      await new Promise<void>((resolve) => job.signal.addEventListener('abort', () => resolve()));
      throw new JobInterruptedError();
    }, stopping.signal);
    await queue.enqueue('long');
    await until(() => attempts.length === 1);
    stopping.abort();
    await first.close();
    expect(await queue.counts()).toMatchObject({ waiting: 1, active: 0, failed: 0 });

    startWorker(async (job) => {
      attempts.push(job.attempt);
    });
    await until(async () => (await queue.counts()).completed === 1);
    expect(attempts).toEqual([1, 1]);
  });

  it('reports an unreachable Redis as QueueUnavailableError', async () => {
    const down = new BullMqRetrainingQueue({ host: '127.0.0.1', port: 1, retryStrategy: () => null }, prefix);
    await expect(down.enqueue('x')).rejects.toBeInstanceOf(QueueUnavailableError);
    await down.close();
  });
});

describe('InProcessRetrainingQueue', () => {
  it('keeps at most one job running and one waiting, and runs them in order', async () => {
    const queue = new InProcessRetrainingQueue(10);
    const blocker = gate();
    queue.work(blocker.handler);
    expect(await queue.enqueue('a')).toEqual({ jobId: 'a', deduplicated: false });
    await until(() => blocker.ran.length === 1);
    const results = await Promise.all(['b', 'c', 'd'].map((id) => queue.enqueue(id)));
    expect(results.map((r) => r.jobId)).toEqual(['b', 'b', 'b']);
    expect(await queue.counts()).toMatchObject({ active: 1, waiting: 1 });
    blocker.release();
    await until(() => blocker.ran.length === 2);
    blocker.release();
    await until(async () => (await queue.counts()).completed === 2);
    expect(blocker.ran).toEqual(['a', 'b']);
    await queue.close();
  });

  it('retries a failing job with backoff, and fails a permanent error at once', async () => {
    const queue = new InProcessRetrainingQueue(10);
    const attempts: Record<string, number[]> = {};
    queue.work(async (job) => {
      (attempts[job.id] ??= []).push(job.attempt);
      if (job.id === 'permanent') throw new PermanentJobError('malformed CSV');
      if (job.attempt < 3) throw new Error('S3 is down');
    });
    await queue.enqueue('flaky');
    await until(async () => (await queue.counts()).completed === 1);
    await queue.enqueue('permanent');
    await until(async () => (await queue.counts()).failed === 1);
    expect(attempts).toEqual({ flaky: [1, 2, 3], permanent: [1] });
    await queue.close();
  });

  it('interrupts the running job on close and refuses new jobs', async () => {
    const queue = new InProcessRetrainingQueue(10);
    let sawAbort = false;
    queue.work(async (job) => {
      await new Promise<void>((resolve) => job.signal.addEventListener('abort', () => resolve()));
      sawAbort = true;
      throw new JobInterruptedError();
    });
    await queue.enqueue('long');
    await until(async () => (await queue.counts()).active === 1);
    await queue.close();
    expect(sawAbort).toBe(true);
    await expect(queue.enqueue('late')).rejects.toBeInstanceOf(JobInterruptedError);
  });
});
