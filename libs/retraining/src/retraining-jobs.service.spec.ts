import { DataSource, type QueryDeepPartialEntity } from 'typeorm';
import { RetrainingJobEntity } from '@app/database';
import { openTestDatabase, TEST_DATABASES } from '@app/database/testing';
import { waitFor } from '@app/config/testing';
import { InProcessRetrainingQueue, type JobHandler } from '@app/queue';
import { RetrainingJobNotCancellableError, RetrainingJobs } from './retraining-jobs.service';

describe.each(TEST_DATABASES)('RetrainingJobs on $name', (driver) => {
  let dataSource: DataSource;
  let close: () => Promise<void>;
  let queue: InProcessRetrainingQueue;

  beforeAll(async () => {
    ({ dataSource, close } = await openTestDatabase(driver));
  });
  afterAll(async () => {
    await close?.();
  });
  beforeEach(async () => {
    await dataSource.getRepository(RetrainingJobEntity).clear();
    queue = new InProcessRetrainingQueue(10);
  });
  afterEach(() => queue.close());

  /** A row as a finished or interrupted job left it. */
  async function row(fields: Partial<RetrainingJobEntity>): Promise<string> {
    const id = `00000000-0000-4000-8000-${String(Math.floor(Math.random() * 1e12)).padStart(12, '0')}`;
    const now = new Date();
    await dataSource.getRepository(RetrainingJobEntity).insert({
      id,
      createdAt: now,
      state: 'succeeded',
      phase: 'done',
      trigger: 'admin:alice',
      reason: 'earlier',
      params: {},
      progress: null,
      attempts: 1,
      error: null,
      resultVersion: null,
      gate: null,
      startedAt: now,
      finishedAt: now,
      updatedAt: now,
      trainingStartedAt: null,
      cancelledBy: null,
      cancelledAt: null,
      ...fields,
    } as QueryDeepPartialEntity<RetrainingJobEntity>);
    return id;
  }

  describe('the cooldown', () => {
    const ask = (jobs: RetrainingJobs) => jobs.request({ reason: 'again', trigger: 'alert:x@1', params: {} });

    it('is not started by the first model (bootstrap), nor by a job that failed before training', async () => {
      const jobs = new RetrainingJobs(dataSource, queue, undefined, 60);
      await row({ trigger: 'bootstrap', trainingStartedAt: new Date() });
      await row({ state: 'failed', error: 'there is no training data', trainingStartedAt: null });
      expect((await ask(jobs)).cooledDown).toBe(false);
    });

    it.each([
      ['succeeded', 'succeeded'],
      ['failed after training began', 'failed'],
    ] as const)('is started by a retraining that %s', async (_, state) => {
      const jobs = new RetrainingJobs(dataSource, queue, undefined, 60);
      const last = await row({ state, trainingStartedAt: new Date() });
      const result = await ask(jobs);
      expect(result.cooledDown).toBe(true);
      expect(result.job.progress?.message).toContain(last);
    });

    it('is not started by a cancelled job', async () => {
      const jobs = new RetrainingJobs(dataSource, queue, undefined, 60);
      await row({ state: 'cancelled', trainingStartedAt: new Date(), cancelledBy: 'admin:bob' });
      expect((await ask(jobs)).cooledDown).toBe(false);
    });
  });

  describe('a restart of the embedded mode (recoverInterrupted)', () => {
    it('runs again every job the stopped process held, oldest first, and none stays an orphan', async () => {
      const jobs = new RetrainingJobs(dataSource, queue);
      const handedBack = await row({
        state: 'queued',
        phase: 'queued',
        createdAt: new Date(Date.now() - 3000),
      });
      const killed = await row({
        state: 'running',
        phase: 'training',
        createdAt: new Date(Date.now() - 2000),
      });
      const extra = await row({ state: 'queued', phase: 'queued', createdAt: new Date(Date.now() - 1000) });
      const exhausted = await row({ state: 'running', phase: 'training', attempts: 5 });
      const ran: string[] = [];
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const handler: JobHandler = async (job) => {
        ran.push(job.id);
        await gate;
      };
      queue.work(handler);

      const recovered = await jobs.recoverInterrupted();
      expect(recovered).toEqual({ resumed: [handedBack, killed], failed: [extra, exhausted] });
      expect(await jobs.get(killed)).toMatchObject({
        state: 'queued',
        error: expect.stringMatching(/interrupted/),
      });
      expect(await jobs.get(extra)).toMatchObject({
        state: 'failed',
        error: expect.stringContaining(`retraining job ${killed}`),
      });
      expect(await jobs.get(exhausted)).toMatchObject({
        state: 'failed',
        error: expect.stringMatching(/stopped 5 times/),
      });
      expect(await queue.counts()).toMatchObject({ active: 1, waiting: 1 });
      release();
      await waitFor('both jobs ran', async () => (ran.length === 2 ? true : undefined), 10_000);
      expect(ran).toEqual([handedBack, killed]);
      // A new request after both finish is a new job: nothing absorbs it.
      await waitFor(
        'both jobs completed',
        async () => ((await queue.counts()).completed === 2 ? true : undefined),
        10_000,
      );
      const next = await jobs.request({ reason: 'new alert', trigger: 'alert:y@2', params: {} });
      expect(next.deduplicated).toBe(false);
    });
  });

  describe('cancelling', () => {
    it('takes a waiting job out of the queue, records who and when, and a new request is a new job', async () => {
      const jobs = new RetrainingJobs(dataSource, queue);
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      queue.work(() => gate);
      const running = (await jobs.request({ reason: 'a', trigger: 'cli', params: {} })).job;
      const waiting = (await jobs.request({ reason: 'b', trigger: 'cli', params: {} })).job;
      const cancelled = await jobs.cancel(waiting.id, 'admin:bob');
      expect(cancelled).toMatchObject({
        state: 'cancelled',
        phase: 'cancelled',
        cancelledBy: 'admin:bob',
        cancelledAt: expect.any(Date),
        finishedAt: expect.any(Date),
      });
      expect(await queue.counts()).toMatchObject({ waiting: 0 });
      const next = await jobs.request({ reason: 'c', trigger: 'cli', params: {} });
      expect(next.deduplicated).toBe(false);
      expect(next.job.id).not.toBe(waiting.id);
      // A cancelled row is final: a late write from a runner does not bring it back.
      await jobs.markQueued(waiting.id, null);
      expect(await jobs.markRunning(waiting.id)).toBe(false);
      expect((await jobs.get(waiting.id)).state).toBe('cancelled');
      expect(running.state).toBe('queued');
      release();
    });

    it('refuses a finished job, and one registering its version, with the reason', async () => {
      const jobs = new RetrainingJobs(dataSource, queue);
      const done = await row({ state: 'succeeded' });
      await expect(jobs.cancel(done, 'admin:bob')).rejects.toThrow(RetrainingJobNotCancellableError);
      await expect(jobs.cancel(done, 'admin:bob')).rejects.toThrow(/is succeeded/);
      const registering = await row({ state: 'running', phase: 'training' });
      expect(await jobs.claimRegistration(registering)).toBe(true);
      await expect(jobs.cancel(registering, 'admin:bob')).rejects.toThrow(/too late to cancel/);
      const cancelledFirst = await row({ state: 'running', phase: 'training' });
      await jobs.cancel(cancelledFirst, 'admin:bob');
      expect(await jobs.claimRegistration(cancelledFirst)).toBe(false);
    });
  });
});
