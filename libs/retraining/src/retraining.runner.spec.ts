import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { DataSource } from 'typeorm';
import { AppConfig } from '@app/config';
import { FeedbackEntity, openDataSource, PredictionWriter, type PredictionRow } from '@app/database';
import { createPostgresTestSchema, type PostgresTestSchema } from '@app/database/testing';
import { FeedbackExamples, PredictionImages } from '@app/feedback';
import { FIXTURE_CLASSES, fixtureJpeg, writeFixtureDataset } from '@app/ml/testing';
import { JobCancelledError, JobInterruptedError, PermanentJobError, type RunningJob } from '@app/queue';
import { ACCEPT_REGISTERED, ModelRegistry, PromotionWorkflow } from '@app/registry';
import { TrainingWorkflow } from '@app/training';
import { S3ArtifactStore } from '@app/storage';
import { startS3rver } from '@app/storage/testing';
import { RetrainingJobs } from './retraining-jobs.service';
import { RetrainingRunner, type RetrainingRunnerSettings } from './retraining.runner';

/** Small, fast models: the spec is about the workflow, not accuracy. */
const FAST = { neuralModels: 0, linearViews: ['merged' as const], withImages: false };

describe('RetrainingRunner (PostgreSQL, s3rver, a training child process)', () => {
  let root: string;
  let dataDir: string;
  let pg: PostgresTestSchema;
  let s3: Awaited<ReturnType<typeof startS3rver>>;
  let dataSource: DataSource;
  let registry: ModelRegistry;
  let promotions: PromotionWorkflow;
  let store: S3ArtifactStore;
  let jobs: RetrainingJobs;
  const promoted: string[] = [];

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'retraining-spec-'));
    dataDir = join(root, 'data');
    await writeFixtureDataset(dataDir);
    [pg, s3] = await Promise.all([createPostgresTestSchema(), startS3rver('models')]);
    dataSource = await openDataSource(
      AppConfig.fromEnvironment({ DATABASE_URL: pg.url, DATABASE_SCHEMA: pg.schema }),
    );
    store = new S3ArtifactStore({ ...s3, region: 'us-east-1' });
    registry = new ModelRegistry(dataSource, store);
    promotions = new PromotionWorkflow(registry, ACCEPT_REGISTERED, {
      announce: async (version) => void promoted.push(version),
    });
    // The spec hands jobs to the runner itself: the queue only has to accept them (no deduplication).
    jobs = new RetrainingJobs(dataSource, {
      driver: 'in-process',
      enqueue: async (jobId) => ({ jobId, deduplicated: false }),
      remove: async () => true,
      counts: async () => ({ waiting: 0, active: 0, delayed: 0, completed: 0, failed: 0 }),
      close: async () => undefined,
    });
  });
  afterAll(async () => {
    await dataSource.destroy();
    store.onModuleDestroy();
    await Promise.all([pg.drop(), s3.stop()]);
    rmSync(root, { recursive: true, force: true });
  });

  /** Gate rules that pass any candidate: the workflow specs are not about the figures. */
  const LENIENT = { tolerance: 1, floor: 0, maxClassDrop: 1, minClassSupport: 1 };
  const runner = (settings: Omit<RetrainingRunnerSettings, 'varDir'> = { dataDir, gate: LENIENT }) =>
    new RetrainingRunner(jobs, registry, new TrainingWorkflow(registry, promotions, join(root, 'work')), {
      ...settings,
      varDir: join(root, 'var'),
    });

  const running = (id: string, overrides: Partial<RunningJob> = {}): RunningJob => ({
    id,
    attempt: 1,
    maxAttempts: 3,
    signal: new AbortController().signal,
    reportProgress: async () => undefined,
    ...overrides,
  });

  it('trains in a child process, registers the version with its lineage, promotes it, and records the job', async () => {
    const { job } = await jobs.request({ reason: 'first model', trigger: 'admin:alice', params: FAST });
    const reported: Record<string, unknown>[] = [];
    const outcome = await runner().run(
      running(job.id, { reportProgress: async (p) => void reported.push(p) }),
    );

    expect(outcome).toMatchObject({ version: 'v1', promoted: true });
    expect((await registry.production()).version).toBe('v1');
    const record = await registry.get('v1');
    expect(record.lineage).toMatchObject({
      trigger: 'admin:alice',
      jobId: job.id,
      parentVersion: null,
      params: FAST,
      dataFingerprint: expect.stringMatching(/^sha256:/),
      evaluationSplit: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    // No production model yet: the gate holds the candidate to the floor alone, and says so.
    expect(record.gate).toMatchObject({
      promote: true,
      production: null,
      splitHash: record.lineage!.evaluationSplit,
    });
    expect(record.source).toBe('retraining');
    expect(reported.map((p) => p.phase)).toEqual(
      expect.arrayContaining(['loading-data', 'training', 'saving']),
    );
    expect(await jobs.get(job.id)).toMatchObject({
      state: 'succeeded',
      phase: 'done',
      attempts: 1,
      resultVersion: 'v1',
      error: null,
      startedAt: expect.any(Date),
      finishedAt: expect.any(Date),
    });
  });

  it('publishes exactly one version per job, however often the job is delivered', async () => {
    const { job } = await jobs.request({ reason: 'retry me', trigger: 'cli', params: FAST });
    const first = await runner().run(running(job.id));
    const again = await runner().run(running(job.id, { attempt: 2 }));
    expect(again.version).toBe(first.version);
    const versions = (await registry.list()).filter((v) => v.lineage?.jobId === job.id);
    expect(versions).toHaveLength(1);
    expect(promoted.filter((v) => v === first.version)).toHaveLength(1);
  });

  it('keeps a candidate the gate refuses as a registered candidate, with the reasons, and does not promote it', async () => {
    const production = (await registry.production()).version;
    const { job } = await jobs.request({ reason: 'strict gate', trigger: 'cli', params: FAST });
    const strict = { ...LENIENT, floor: 1 };
    const outcome = await runner({ dataDir, gate: strict }).run(running(job.id));
    expect(outcome.promoted).toBe(false);
    expect(outcome.reasons.join('\n')).toMatch(/floor/);
    expect((await registry.production()).version).toBe(production);
    const record = await registry.get(outcome.version!);
    expect(record.parentVersion).toBe(production);
    // Both models were scored on the same frozen split.
    expect(record.gate).toMatchObject({
      promote: false,
      production: expect.objectContaining({ n: expect.any(Number) }),
    });
    expect((await jobs.get(job.id)).gate).toMatchObject({ promote: false });
  });

  it('skips a first-model job once the registry has a version, without training', async () => {
    const { job } = await jobs.request({
      reason: 'first model',
      trigger: 'bootstrap',
      params: { ...FAST, dataset: 'demo', onlyIfEmpty: true },
    });
    const before = (await registry.list()).length;
    const outcome = await runner({ dataDir: undefined, gate: LENIENT }).run(running(job.id));
    expect(outcome).toEqual({
      version: null,
      promoted: false,
      reasons: [expect.stringMatching(/already has v\d+/)],
    });
    expect((await registry.list()).length).toBe(before);
    expect(await jobs.get(job.id)).toMatchObject({ state: 'skipped', resultVersion: null, error: null });
  });

  it('trains on data kept in the artifact store under a prefix (DATA_S3_PREFIX), for workers without DATA_DIR', async () => {
    for (const file of readdirSync(dataDir, { recursive: true, withFileTypes: true })) {
      if (!file.isFile()) continue;
      const path = join(file.parentPath, file.name);
      await store.put(`data/fixture/${relative(dataDir, path)}`, readFileSync(path));
    }
    const { job } = await jobs.request({ reason: 'data from S3', trigger: 'cli', params: FAST });
    const outcome = await runner({ dataStore: { store, prefix: 'data/fixture' }, gate: LENIENT }).run(
      running(job.id),
    );
    const record = await registry.get(outcome.version!);
    expect(record.lineage).toMatchObject({ dataDir: join(root, 'var', 'data-cache') });
    // The same rows as the local folder: the same fingerprint.
    const local = (await registry.list()).find((v) => v.version === 'v1')!;
    expect(record.dataFingerprint).toBe(local.dataFingerprint);
  });

  it('with no DATA_DIR or DATA_S3_PREFIX (the quick start), trains on the demo catalogue like the first model', async () => {
    const { job } = await jobs.request({
      reason: 'no data configured',
      trigger: 'admin:alice',
      params: FAST,
    });
    const outcome = await runner({ dataDir: undefined, gate: LENIENT }).run(running(job.id));
    const record = await registry.get(outcome.version!);
    expect(record.lineage).toMatchObject({
      dataDir: expect.stringMatching(/demo-catalogue$/),
      params: { ...FAST, dataset: 'demo' },
    });
    expect(await jobs.get(job.id)).toMatchObject({
      state: 'succeeded',
      trainingStartedAt: expect.any(Date),
    });
  });

  it('fails at once, with the reason, when the data is malformed, before training', async () => {
    const bad = join(root, 'bad');
    rmSync(bad, { recursive: true, force: true });
    await writeFixtureDataset(bad);
    writeFileSync(join(bad, 'products.csv'), 'productid,designation,prdtypecode\n1,"unclosed,10\n');
    const malformed = await jobs.request({ reason: 'bad data', trigger: 'cli', params: FAST });
    const error = await runner({ dataDir: bad })
      .run(running(malformed.job.id))
      .catch((e: Error) => e);
    expect(error).toBeInstanceOf(PermanentJobError);
    expect((error as Error).message).toMatch(/products\.csv/);
    expect(await jobs.get(malformed.job.id)).toMatchObject({
      state: 'failed',
      attempts: 1,
      trainingStartedAt: null,
    });
  });

  /** The training processes this process has running (training.child.ts, forked by trainInChildProcess). */
  const trainingChildren = () =>
    execFileSync('ps', ['-o', 'args=', '--ppid', String(process.pid)], { encoding: 'utf8' })
      .split('\n')
      .filter((line) => line.includes('training.child'));

  it('stops a running job that an operator cancels: the training process ends, nothing is registered', async () => {
    const before = (await registry.list()).length;
    const { job } = await jobs.request({
      reason: 'to be cancelled',
      trigger: 'cli',
      params: { ...FAST, neuralModels: 1 },
    });
    let cancelling: Promise<unknown> | undefined;
    const run = runner().run(
      running(job.id, {
        reportProgress: async (p) => {
          if (p.phase === 'training') cancelling ??= jobs.cancel(job.id, 'admin:bob');
        },
      }),
    );
    await expect(run).rejects.toBeInstanceOf(JobCancelledError);
    await cancelling;
    expect(await jobs.get(job.id)).toMatchObject({
      state: 'cancelled',
      phase: 'cancelled',
      cancelledBy: 'admin:bob',
      cancelledAt: expect.any(Date),
      resultVersion: null,
    });
    expect((await registry.list()).length).toBe(before);
    const deadline = Date.now() + 10_000;
    while (trainingChildren().length > 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    expect(trainingChildren()).toEqual([]);
  });

  it('does not run a job cancelled while it waited', async () => {
    const { job } = await jobs.request({ reason: 'cancelled early', trigger: 'cli', params: FAST });
    await jobs.cancel(job.id, 'admin:bob');
    await expect(runner().run(running(job.id))).rejects.toBeInstanceOf(JobCancelledError);
    expect(await jobs.get(job.id)).toMatchObject({ state: 'cancelled', attempts: 0, startedAt: null });
  });

  it('stops training at a shutdown and hands the job back, registering nothing', async () => {
    const before = (await registry.list()).length;
    const { job } = await jobs.request({
      reason: 'interrupted',
      trigger: 'cli',
      params: { ...FAST, neuralModels: 1 },
    });
    const shutdown = new AbortController();
    const run = runner().run(
      running(job.id, {
        signal: shutdown.signal,
        reportProgress: async (p) => {
          if (p.phase === 'loading-data') shutdown.abort();
        },
      }),
    );
    await expect(run).rejects.toBeInstanceOf(JobInterruptedError);
    expect(await jobs.get(job.id)).toMatchObject({ state: 'queued', phase: 'queued', error: null });
    expect((await registry.list()).length).toBe(before);
  });

  it('trains on the labelled predictions too, recording the newest label it learned from and both models on the recent ones', async () => {
    const images = new PredictionImages(store);
    const { sha256: kept } = await images.save(await fixtureJpeg(FIXTURE_CLASSES[2583].colour));
    const expired = 'e'.repeat(64);
    const words = ['pompe filtration', 'roman poche', 'chaise bois', 'bache hivernage', 'livre auteur'];
    const codes = [2583, 10, 1560, 2583, 10];
    const predictions: PredictionRow[] = Array.from({ length: 10 }, (_, i) => ({
      id: `00000000-0000-4000-8000-00000000000${i}`,
      createdAt: new Date(Date.UTC(2026, 10, 28, 8, i)),
      modelVersion: 'v1',
      prdtypecode: codes[i % 5],
      probability: 0.5,
      top: [],
      modality: 'text',
      designation: `${words[i % 5]} client ${i}`,
      description: null,
      imageSha256: i === 1 ? kept : i === 2 ? expired : null,
      latencyMs: 1,
      requestedBy: 'client',
    }));
    await new PredictionWriter(dataSource).insert(predictions);
    const labelledAt = (i: number) => new Date(Date.UTC(2026, 10, 28, 9, i));
    const label = (predictionId: string, i: number): FeedbackEntity => ({
      predictionId,
      modelVersion: 'v1',
      predictedPrdtypecode: codes[i % 5],
      truePrdtypecode: codes[i % 5],
      predictedAt: new Date(Date.UTC(2026, 10, 28, 8, i)),
      createdAt: labelledAt(i),
      labelledAt: labelledAt(i),
      reportedBy: 'reviewer',
    });
    await dataSource
      .getRepository(FeedbackEntity)
      .insert([
        ...predictions.map((p, i) => label(p.id, i)),
        label('00000000-0000-4000-8000-0000000000ff', 3),
      ]);

    const production = (await registry.production()).version;
    const { job } = await jobs.request({ reason: 'with feedback', trigger: 'cli', params: FAST });
    const feedback = { examples: new FeedbackExamples(dataSource), images, recent: 200 };
    const outcome = await runner({ dataDir, gate: LENIENT, feedback }).run(running(job.id));

    const record = await registry.get(outcome.version!);
    // 10 labels: the 2 newest (a fifth) are held out, the 8 before them train; the expired photo's row trains by text.
    const summary = {
      labels: 8,
      heldOut: 2,
      withImages: 1,
      missingPredictions: 1,
      withheldTwins: 0,
      empty: 0,
      watermark: { labelledAt: labelledAt(7).toISOString(), predictionId: predictions[7].id },
    };
    expect(record.lineage).toMatchObject({ feedback: summary, parentVersion: production });
    expect(record.modelCard).toMatchObject({ feedback: summary });
    const figures = {
      weighted_f1: expect.any(Number),
      macro_f1: expect.any(Number),
      accuracy: expect.any(Number),
    };
    const recentFeedback = { n: 2, candidate: figures, production: figures };
    expect(record.gate).toMatchObject({ recentFeedback });
    expect((await jobs.get(job.id)).gate).toMatchObject({ recentFeedback });
    // The export went with the run's folder; the photos stay cached for the next one.
    expect(readdirSync(join(root, 'work')).filter((name) => name !== 'model-cache')).toEqual([]);
    expect(readdirSync(join(root, 'var'))).not.toContain('feedback-exports');
    expect(readdirSync(join(root, 'var', 'feedback-images'))).toEqual([kept]);
  });
});
