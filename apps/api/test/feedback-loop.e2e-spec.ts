import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { createPostgresTestSchema, type PostgresTestSchema } from '@app/database/testing';
import { rakutenDataDir, readCsvRecords } from '@app/ml';
import { localMonitoringInstalled, startLocalMonitoring } from '@app/metrics/testing';
import { RETRAINING_QUEUE } from '@app/queue';
import { S3ArtifactStore } from '@app/storage';
import { startS3rver, type S3rverFixture } from '@app/storage/testing';
import {
  freePort,
  killProcessGroup,
  passwordToken,
  productionSettings,
  startNodeEntry,
  waitFor,
  waitUntilAnswering,
  type ServiceProcess,
} from '@app/config/testing';

const ADMIN = { username: 'admin', password: 'loop-admin-password-0123' };
const WEBHOOK_TOKEN = `webhook-${randomUUID()}`;
/** Rows of the shared data the service trains on: small, so that the retraining takes well under a minute. */
const SLICE_ROWS = 500;
/** The first model: one linear model, a few seconds. */
const QUICK = { neuralModels: 0, linearViews: ['merged'], withImages: false };
const LABELS = 40;

jest.setTimeout(400_000);

const dataDir = rakutenDataDir();
const tools = localMonitoringInstalled();
// Without the shared data or the tools, say so instead of passing silently: .ci/run installs the tools.
const describeLoop = dataDir && tools ? describe : describe.skip;
if (!tools) console.warn(`feedback loop e2e skipped: install prometheus and prometheus-alertmanager (apt)`);

describeLoop('the feedback loop (e2e: API, worker, Prometheus and Alertmanager as real processes)', () => {
  let root: string;
  let schema: PostgresTestSchema;
  let s3: S3rverFixture;
  let env: Record<string, string>;
  let api: string;
  let token: string;
  const children: ServiceProcess[] = [];

  const call = async <T>(path: string, init: RequestInit = {}): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${api}${path}`, {
      ...init,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...init.headers },
    });
    return { status: res.status, body: (await res.json()) as T };
  };
  const post = <T>(path: string, body: unknown) =>
    call<T>(path, { method: 'POST', body: JSON.stringify(body) });

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'feedback-loop-e2e-'));
    [schema, s3] = await Promise.all([createPostgresTestSchema(), startS3rver('models')]);
    // A slice of the shared data, text only: the folder the worker retrains on.
    const { header, records } = readCsvRecords(join(dataDir!, 'products.csv'));
    mkdirSync(join(root, 'data'));
    const quote = (v: string) => `"${v.replace(/"/g, '""')}"`;
    const columns = ['productid', 'imageid', 'designation', 'description', 'prdtypecode'];
    writeFileSync(
      join(root, 'data', 'products.csv'),
      [
        columns.join(','),
        ...records.slice(0, SLICE_ROWS).map((r) => columns.map((c) => quote(r.values[c] ?? '')).join(',')),
      ].join('\n'),
    );
    expect(header).toEqual(expect.arrayContaining(columns));
    const apiPort = await freePort();
    api = `http://127.0.0.1:${apiPort}`;
    env = {
      ...productionSettings(schema, s3),
      JWT_SECRET: 'feedback-loop-e2e-secret-0123456789abcdef',
      ADMIN_USERNAME: ADMIN.username,
      ADMIN_PASSWORD: ADMIN.password,
      ALERTMANAGER_WEBHOOK_TOKEN: WEBHOOK_TOKEN,
      BCRYPT_COST: '4',
      BOOTSTRAP_MODEL: 'off',
      MODEL_POLL_INTERVAL_MS: '200',
      RATE_LIMIT_PER_MINUTE: '0',
      IP_RATE_LIMIT_PER_MINUTE: '0',
      LIVE_REFRESH_SECONDS: '1',
      LIVE_MIN_SAMPLES: String(LABELS / 2),
      LIVE_F1_THRESHOLD: '0.5',
      // The first model is a retraining too: a cooldown would hold the alert's job back (the embedded suite tests it).
      RETRAINING_COOLDOWN_MINUTES: '0',
      // The loop is under test, not the gate: every candidate is promoted.
      GATE_TOLERANCE: '1',
      GATE_FLOOR: '0',
      GATE_MAX_CLASS_DROP: '1',
      DATA_DIR: join(root, 'data'),
      LOG_LEVEL: 'log',
    };
    const apiProcess = startNodeEntry('api', 'apps/api/src/main.ts', {
      env: { ...env, PORT: String(apiPort), VAR_DIR: join(root, 'api') },
    });
    children.push(
      apiProcess,
      startNodeEntry('worker', 'apps/worker/src/main.ts', {
        env: { ...env, WORKER_PORT: String(await freePort()), VAR_DIR: join(root, 'worker') },
      }),
    );
    // Live, not ready: there is no model to serve until the first job has trained one.
    await waitUntilAnswering(apiProcess, `${api}/health/live`, 90_000);
    token = await passwordToken(api, ADMIN);
  });

  afterAll(async () => {
    for (const child of children) killProcessGroup(child);
    const queue = new Queue(RETRAINING_QUEUE, {
      connection: { host: '127.0.0.1', port: 6379 },
      prefix: env?.QUEUE_PREFIX,
    });
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    await Promise.all([schema?.drop(), s3?.stop()]);
    rmSync(root, { recursive: true, force: true });
  });

  interface Job {
    id: string;
    state: string;
    trigger: string;
    resultVersion: string | null;
  }

  it('wrong labels pull live F1 down, the alert fires, one retraining publishes a version and the API serves it', async () => {
    // A first model, trained by the worker.
    const first = await post<Job>('/v1/retraining-jobs', { reason: 'first model', params: QUICK });
    expect(first.status).toBe(202);
    const firstDone = await waitFor(
      'the first model',
      async () => {
        const { body } = await call<Job>(`/v1/retraining-jobs/${first.body.id}`);
        return body.state === 'succeeded' ? body : undefined;
      },
      120_000,
      children,
    );
    const firstVersion = firstDone.resultVersion!;
    const items = readCsvRecords(join(root, 'data', 'products.csv'))
      .records.slice(0, LABELS)
      .map((r) => ({ designation: r.values.designation, description: r.values.description }));
    const predicted = await waitFor(
      `predictions from ${firstVersion}`,
      async () => {
        const { status, body } = await post<{
          modelVersion: string;
          predictions: { id: string; prdtypecode: number }[];
        }>('/v1/predictions/batch', { items });
        return status === 200 && body.modelVersion === firstVersion ? body.predictions : undefined;
      },
      30_000,
      children,
    );

    // The repository's rule with a short `for`, and its Alertmanager route with short timings.
    const monitoring = await startLocalMonitoring({
      dir: root,
      api,
      webhookToken: WEBHOOK_TOKEN,
      alertFor: '2s',
      repeatInterval: '2s',
    });
    children.push(...monitoring.processes);
    // Every label says the model was wrong.
    const labels = await post<{ summary: Record<string, number> }>('/v1/feedback/batch', {
      items: predicted.map((p) => ({ predictionId: p.id, prdtypecode: p.prdtypecode === 10 ? 40 : 10 })),
    });
    expect(labels.body.summary).toMatchObject({ created: LABELS, rejected: 0 });

    const firing = await waitFor(
      'ModelF1BelowThreshold to fire in Prometheus',
      async () =>
        (await monitoring.firingAlerts()).find((a) => a.labels.alertname === 'ModelF1BelowThreshold'),
      60_000,
      children,
    );
    expect(firing.labels).toMatchObject({ model_version: firstVersion, severity: 'warning' });

    const alertJob = await waitFor(
      'a retraining job asked for by the alert',
      async () => (await call<Job[]>('/v1/retraining-jobs')).body.find((j) => j.trigger.startsWith('alert:')),
      60_000,
      children,
    );
    const done = await waitFor(
      'the retraining to finish',
      async () => {
        const { body } = await call<Job>(`/v1/retraining-jobs/${alertJob.id}`);
        if (body.state === 'failed') throw new Error(`the retraining failed: ${JSON.stringify(body)}`);
        return body.state === 'succeeded' ? body : undefined;
      },
      240_000,
      children,
    );
    const newVersion = done.resultVersion!;
    expect(newVersion).not.toBe(firstVersion);

    // Alertmanager kept repeating the alert meanwhile (every 2 s): recorded as duplicates, one job.
    const metrics = await (await fetch(`${api}/metrics`)).text();
    const duplicates = Number(
      /^alertmanager_webhook_alerts_total\{alertname="ModelF1BelowThreshold",status="firing",result="duplicate"\} (\d+)$/m.exec(
        metrics,
      )?.[1] ?? 0,
    );
    expect(duplicates).toBeGreaterThan(0);
    const jobs = (await call<Job[]>('/v1/retraining-jobs')).body;
    expect(jobs.filter((j) => j.trigger.startsWith('alert:') && j.state !== 'skipped')).toHaveLength(1);

    // Published: the artifacts in S3, the version in the registry as production, and served by the API.
    const { body: model } = await call<{
      version: string;
      artifactPrefix: string;
      lineage: { trigger: string };
    }>(`/v1/models/${newVersion}`);
    expect(model.lineage.trigger).toBe(alertJob.trigger);
    const store = new S3ArtifactStore({ ...s3, region: 'us-east-1' });
    await expect(store.get(`${model.artifactPrefix}model.json`)).resolves.toBeInstanceOf(Buffer);
    store.onModuleDestroy();
    await waitFor(
      `the API to serve ${newVersion}`,
      async () => {
        const { body } = await post<{ modelVersion: string }>('/v1/predictions', {
          designation: items[0].designation,
        });
        return body.modelVersion === newVersion ? true : undefined;
      },
      30_000,
      children,
    );
  });
});
