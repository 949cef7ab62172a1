import { DataSource } from 'typeorm';
import { AlertEventEntity, RetrainingJobEntity } from '@app/database';
import { openTestDatabase, TEST_DATABASES } from '@app/database/testing';
import { InProcessRetrainingQueue, type RetrainingQueue } from '@app/queue';
import { AlertTriggers, type NotifiedAlert } from './alert-triggers.service';
import { RetrainingJobs } from './retraining-jobs.service';

const ALERT: NotifiedAlert = {
  status: 'firing',
  labels: { alertname: 'ModelF1BelowThreshold' },
  startsAt: '2026-12-06T10:00:00.000Z',
  fingerprint: 'f00d0001',
};

describe.each(TEST_DATABASES)('AlertTriggers on $name', (driver) => {
  let dataSource: DataSource;
  let close: () => Promise<void>;
  let inProcess: InProcessRetrainingQueue;

  beforeAll(async () => {
    ({ dataSource, close } = await openTestDatabase(driver));
  });
  afterAll(async () => {
    await close?.();
  });
  beforeEach(async () => {
    await dataSource.getRepository(AlertEventEntity).clear();
    await dataSource.getRepository(RetrainingJobEntity).clear();
    inProcess = new InProcessRetrainingQueue(10);
  });
  afterEach(() => inProcess.close());

  it('answers copies of an alert that arrive while the original is starting its job with that job', async () => {
    // Redis takes a moment to take the job: the copies arrive meanwhile.
    const slow: RetrainingQueue = {
      driver: 'in-process',
      enqueue: async (jobId) => {
        await new Promise((resolve) => setTimeout(resolve, 300));
        return inProcess.enqueue(jobId);
      },
      remove: (jobId) => inProcess.remove(jobId),
      counts: () => inProcess.counts(),
      close: async () => undefined,
    };
    const triggers = new AlertTriggers(dataSource, new RetrainingJobs(dataSource, slow), [
      'ModelF1BelowThreshold',
    ]);
    const answers = (await Promise.all([0, 1, 2].map(() => triggers.handle([ALERT])))).flat();
    expect(answers.map((a) => a.result).sort()).toEqual(['duplicate', 'duplicate', 'enqueued']);
    const jobId = answers.find((a) => a.result === 'enqueued')!.jobId;
    expect(jobId).toEqual(expect.any(String));
    expect(answers.map((a) => a.jobId)).toEqual([jobId, jobId, jobId]);
  });

  it('acts on a copy whose original failed to start a job (its event forgotten), so the alert is not lost', async () => {
    let calls = 0;
    const flaky: RetrainingQueue = {
      driver: 'in-process',
      enqueue: async (jobId) => {
        await new Promise((resolve) => setTimeout(resolve, 200));
        if (calls++ === 0) throw new Error('Redis went away');
        return inProcess.enqueue(jobId);
      },
      remove: (jobId) => inProcess.remove(jobId),
      counts: () => inProcess.counts(),
      close: async () => undefined,
    };
    const triggers = new AlertTriggers(dataSource, new RetrainingJobs(dataSource, flaky), [
      'ModelF1BelowThreshold',
    ]);
    const [original, copy] = await Promise.allSettled([
      triggers.handle([ALERT]),
      new Promise((resolve) => setTimeout(resolve, 50)).then(() => triggers.handle([ALERT])),
    ]);
    expect(original.status).toBe('rejected');
    expect(copy).toMatchObject({
      status: 'fulfilled',
      value: [expect.objectContaining({ result: 'enqueued', jobId: expect.any(String) })],
    });
  });
});
