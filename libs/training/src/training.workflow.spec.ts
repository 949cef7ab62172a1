import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { AppConfig } from '@app/config';
import { openDataSource } from '@app/database';
import { DEFAULT_TRAIN_OPTIONS, type TrainOptions } from '@app/ml';
import { writeFixtureDataset } from '@app/ml/testing';
import {
  ACCEPT_REGISTERED,
  ModelRegistry,
  ModelVersionNotFoundError,
  PromotionWorkflow,
} from '@app/registry';
import { LocalArtifactStore } from '@app/storage';
import { TrainingWorkflow } from './training.workflow';
import type { TrainingProgress } from './training.types';

/** Gate rules that pass any candidate, and rules that pass none. */
const LENIENT = { tolerance: 1, floor: 0, maxClassDrop: 1, minClassSupport: 1 };
const STRICT = { ...LENIENT, floor: 1 };

/** A lean ensemble: one network (so that there are epochs to report) and one linear model, text only. */
const OPTIONS: TrainOptions = {
  ...DEFAULT_TRAIN_OPTIONS,
  withImages: false,
  text: { neuralModels: 1, linearViews: ['merged'] },
};

describe('TrainingWorkflow', () => {
  let root: string;
  let dataDir: string;
  let workRoot: string;
  let dataSource: DataSource;
  let registry: ModelRegistry;
  let workflow: TrainingWorkflow;
  let announced: string[];

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'training-workflow-'));
    dataDir = join(root, 'data');
    await writeFixtureDataset(dataDir);
    workRoot = join(root, 'work');
    dataSource = await openDataSource(AppConfig.fromEnvironment({ VAR_DIR: join(root, 'var') }));
    registry = new ModelRegistry(dataSource, new LocalArtifactStore(join(root, 'artifacts')));
    announced = [];
    const promotion = new PromotionWorkflow(registry, ACCEPT_REGISTERED, {
      announce: async (version, revision) => void announced.push(`${version}@${revision}`),
    });
    workflow = new TrainingWorkflow(registry, promotion, workRoot);
  });
  afterAll(async () => {
    await dataSource.destroy();
    rmSync(root, { recursive: true, force: true });
  });

  it('trains, registers with its lineage, promotes and announces, reporting each phase and epoch', async () => {
    const events: TrainingProgress[] = [];
    const outcome = await workflow.run({
      dataDir,
      options: OPTIONS,
      lineage: { trigger: 'admin:alice', source: 'worker', createdBy: 'alice', jobId: 'job-1' },
      promote: { actor: 'alice', reason: 'retraining' },
      progress: (event) => events.push(event),
    });

    const record = await registry.get(outcome.record.version);
    expect(record).toMatchObject({ createdBy: 'alice', source: 'worker', parentVersion: null });
    expect(record.modelCard).toMatchObject({
      dataDir,
      layout: 'products',
      lineage: { trigger: 'admin:alice', jobId: 'job-1', parentVersion: null },
      parameters: { seed: 0, withImages: false },
    });
    expect(record.metrics).toEqual(outcome.metrics);
    expect(outcome.promotion?.production.version).toBe(record.version);
    expect(await registry.production()).toMatchObject({ version: record.version });
    expect(announced).toEqual([`${record.version}@${outcome.promotion?.production.revision}`]);

    const phases = [...new Set(events.map((e) => e.phase))];
    expect(phases).toEqual(['loading-data', 'training', 'saving', 'registering', 'promoting']);
    const epochs = events.filter((e) => e.epoch !== undefined);
    expect(epochs.length).toBeGreaterThan(0);
    expect(epochs[0]).toMatchObject({ model: 'text-neural-0', modelIndex: 1, modelCount: 2, epoch: 1 });
    expect(epochs[0].message).toMatch(/epoch 1: loss [\d.]+, val weighted F1 [\d.]+/);
    expect(readdirSync(workRoot)).toEqual([]);
  });

  it('keeps a candidate the gate refuses registered but out of production, and keeps an asked-for directory', async () => {
    const before = await registry.production();
    const outDir = join(root, 'kept-model');
    const events: TrainingProgress[] = [];
    const outcome = await workflow.run({
      dataDir,
      options: { ...OPTIONS, seed: 1 },
      gate: STRICT,
      outDir,
      lineage: { trigger: 'cli', source: 'cli', createdBy: 'bob', parentVersion: before.version },
      promote: { actor: 'cli' },
      progress: (event) => events.push(event),
    });
    // Scored against production on the frozen split, and refused by the floor.
    expect(outcome.gate).toMatchObject({ promote: false, production: { n: expect.any(Number) } });
    expect(outcome.gate!.reasons.join('\n')).toMatch(/floor/);
    expect(outcome.record.gate).toEqual(outcome.gate);
    expect(outcome.promotion).toBeUndefined();
    expect([...new Set(events.map((e) => e.phase))]).toEqual([
      'loading-data',
      'training',
      'evaluating',
      'saving',
      'registering',
    ]);
    expect(events.at(-1)!.message).toMatch(/^gate: keep as a candidate \(.*floor/);
    expect(await registry.production()).toEqual(before);
    expect((await registry.get(outcome.record.version)).parentVersion).toBe(before.version);
    expect(outcome.modelDir).toBe(outDir);
    expect(existsSync(join(outDir, 'model.json'))).toBe(true);
  });

  it('trains once per idempotency key: a retried job finds its version and only finishes what is left', async () => {
    const lineage = { trigger: 'admin:alice', source: 'worker', createdBy: 'alice' };
    const refused = await workflow.run({
      dataDir,
      options: { ...OPTIONS, seed: 2 },
      gate: STRICT,
      idempotencyKey: 'job-41',
      lineage: { ...lineage, jobId: 'job-41' },
      promote: { actor: 'alice' },
    });
    expect(refused).toMatchObject({ reused: false, gate: { promote: false } });
    // The retry keeps the gate's decision stored on the version: still not promoted.
    const refusedAgain = await workflow.run({
      dataDir: join(root, 'no-such-folder'),
      options: OPTIONS,
      idempotencyKey: 'job-41',
      lineage: { ...lineage, jobId: 'job-41' },
      promote: { actor: 'alice' },
    });
    expect(refusedAgain).toMatchObject({ reused: true, record: refused.record, gate: { promote: false } });
    expect(refusedAgain.promotion).toBeUndefined();

    // A run that registered but died before promoting.
    const first = await workflow.run({
      dataDir,
      options: { ...OPTIONS, seed: 2 },
      idempotencyKey: 'job-42',
      lineage: { ...lineage, jobId: 'job-42' },
    });
    expect(first).toMatchObject({ reused: false, record: { idempotencyKey: 'job-42' } });
    const versions = (await registry.list()).length;

    const events: TrainingProgress[] = [];
    const retry = await workflow.run({
      dataDir: join(root, 'no-such-folder'),
      options: { ...OPTIONS, seed: 2 },
      idempotencyKey: 'job-42',
      lineage: { ...lineage, jobId: 'job-42' },
      promote: { actor: 'alice' },
      progress: (event) => events.push(event),
    });
    expect(retry).toMatchObject({ reused: true, record: first.record, metrics: first.metrics });
    expect(retry.components).toEqual(first.components);
    expect(events.map((e) => e.phase)).toEqual(['registering', 'promoting']);
    expect(retry.promotion?.production.version).toBe(first.record.version);
    expect((await registry.list()).length).toBe(versions);

    const again = await workflow.run({
      dataDir,
      options: OPTIONS,
      idempotencyKey: 'job-42',
      lineage: { ...lineage, jobId: 'job-42' },
      promote: { actor: 'alice' },
    });
    expect(again.reused).toBe(true);
    expect(again.promotion).toBeUndefined();
    expect((await registry.history()).filter((move) => move.toVersion === first.record.version)).toHaveLength(
      1,
    );
  });

  it('refuses an unregistered parent before loading any data', async () => {
    const events: TrainingProgress[] = [];
    await expect(
      workflow.run({
        dataDir: join(root, 'no-such-folder'),
        options: OPTIONS,
        lineage: { trigger: 'cli', source: 'cli', createdBy: 'bob', parentVersion: 'v99' },
        progress: (event) => events.push(event),
      }),
    ).rejects.toThrow(ModelVersionNotFoundError);
    expect(events).toEqual([]);
  });

  it('removes the work directories that dead processes left behind, and keeps those of live ones', async () => {
    const leftovers = join(root, 'leftovers');
    const live = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    const dead = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    await new Promise((done) => dead.once('exit', done));
    const names = {
      dead: `training-${hostname()}-${dead.pid}-aB3dE9`,
      live: `training-${hostname()}-${live.pid}-xY7zQ1`,
      self: `training-${hostname()}-${process.pid}-q1W2e3`,
      otherHost: `training-elsewhere-${dead.pid}-r4T5y6`,
      legacy: 'training-Zz9Yy8',
      unrelated: 'model-cache',
    };
    for (const name of Object.values(names)) mkdirSync(join(leftovers, name), { recursive: true });
    try {
      const cleaner = new TrainingWorkflow(registry, undefined as never, leftovers);
      // Between runs this process's own directories are its runs'; at its start, a previous life's.
      expect((await cleaner.removeLeftovers()).sort()).toEqual([names.dead, names.legacy].sort());
      expect(await cleaner.removeLeftovers(true)).toEqual([names.self]);
      expect(readdirSync(leftovers).sort()).toEqual([names.live, names.otherHost, names.unrelated].sort());
    } finally {
      live.kill('SIGKILL');
    }
  });

  it('names its work directories after this host and process, so that a later start can tell leftovers', async () => {
    const seen = new Set<string>();
    const watcher = setInterval(() => {
      for (const name of existsSync(workRoot) ? readdirSync(workRoot) : []) seen.add(name);
    }, 5);
    try {
      await workflow.run({
        dataDir,
        options: { ...OPTIONS, text: { neuralModels: 0, linearViews: ['merged'] } },
        lineage: { trigger: 'cli', source: 'cli', createdBy: 'cli' },
      });
    } finally {
      clearInterval(watcher);
    }
    const prefix = `training-${hostname()}-${process.pid}-`;
    // Beside the production models a gate fetched (model-cache).
    const runs = [...seen].filter((name) => name !== 'model-cache');
    expect(runs.map((name) => name.startsWith(prefix))).toEqual([true]);
  });
});
