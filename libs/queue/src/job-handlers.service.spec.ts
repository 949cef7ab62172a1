import { Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { OnJob } from './job-handler.decorator';
import { JobHandlers } from './job-handlers.service';
import { JobHandlersModule } from './job-handlers.module';
import type { RunningJob } from './retraining-queue.types';

class Runner {
  constructor(private readonly answer: string) {}

  @OnJob('retrain')
  run(job: RunningJob): Promise<string> {
    return Promise.resolve(`${this.answer} ran ${job.id}`);
  }
}

class OtherRunner {
  @OnJob('retrain')
  handle(): Promise<void> {
    return Promise.resolve();
  }
}

class Stray {
  @OnJob('reindex' as never)
  run(): Promise<void> {
    return Promise.resolve();
  }
}

/** A process's modules with these providers, started as an app starts (module init included). */
async function start(...providers: object[]) {
  @Module({
    providers: providers.map((instance, i) => ({ provide: `p${i}`, useValue: instance })),
  })
  class AppModule {}
  const moduleRef = await Test.createTestingModule({ imports: [AppModule, JobHandlersModule] }).compile();
  return moduleRef.init();
}

const job = (id: string): RunningJob => ({
  id,
  attempt: 1,
  maxAttempts: 1,
  signal: new AbortController().signal,
  reportProgress: async () => undefined,
});

describe('JobHandlers (job discovery at startup)', () => {
  it('finds the one handler of each job name and runs it on its instance', async () => {
    const app = await start(new Runner('the runner'));
    expect(await app.get(JobHandlers).get('retrain')(job('j1'))).toBe('the runner ran j1');
    await app.close();
  });

  it('refuses to start when a job name has no handler', async () => {
    await expect(start()).rejects.toThrow(/no handler for the job "retrain": tag the method that runs it/);
  });

  it('refuses to start when a job name has two handlers, naming both', async () => {
    await expect(start(new Runner('a'), new OtherRunner())).rejects.toThrow(
      /the job "retrain" has two handlers, Runner\.run and OtherRunner\.handle/,
    );
  });

  it('refuses a handler of a job that no queue carries', async () => {
    await expect(start(new Runner('a'), new Stray())).rejects.toThrow(
      /Stray\.run handles the job "reindex", which no queue carries/,
    );
  });
});
