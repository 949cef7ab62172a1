import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { AppConfig } from '@app/config';
import { openDataSource } from '@app/database';
import { createPostgresTestSchema, type PostgresTestSchema } from '@app/database/testing';
import type { DriftReference } from '@app/drift';
import { describeInput, ProductClassifier } from '@app/ml';
import { fixtureTexts, trainFixtureModel } from '@app/ml/testing';
import { localMonitoringInstalled, startLocalMonitoring } from '@app/metrics/testing';
import { RETRAINING_QUEUE } from '@app/queue';
import { ModelRegistry } from '@app/registry';
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

const ADMIN = { username: 'admin', password: 'drift-admin-password-0123' };
const WEBHOOK_TOKEN = `webhook-${randomUUID()}`;
const WINDOW = 60;

jest.setTimeout(300_000);

const tools = localMonitoringInstalled();
const describeDrift = tools ? describe : describe.skip;
if (!tools) console.warn('drift alert e2e skipped: install prometheus and prometheus-alertmanager (apt)');

interface DriftBody {
  window: { size: number; minWindow: number };
  versions: {
    modelVersion: string;
    serving: boolean;
    predictions: number;
    judged: boolean;
    estimatedF1: number | null;
    signals: { signal: string; value: number; threshold: number | null; drifting: boolean }[];
    classShifts: { prdtypecode: number }[];
    auditBoost: { rate: number; until: string; reason: string } | null;
  }[];
}

describeDrift(
  'drift alert (e2e: API on PostgreSQL + Redis + S3, Prometheus and Alertmanager as real processes)',
  () => {
    let root: string;
    let schema: PostgresTestSchema;
    let s3: S3rverFixture;
    let env: Record<string, string>;
    let api: string;
    let token: string;
    let version: string;
    const children: ServiceProcess[] = [];

    const call = async <T>(path: string, body?: unknown): Promise<{ status: number; body: T }> => {
      const res = await fetch(`${api}${path}`, {
        ...(body === undefined ? {} : { method: 'POST', body: JSON.stringify(body) }),
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      });
      return { status: res.status, body: (await res.json()) as T };
    };

    beforeAll(async () => {
      root = mkdtempSync(join(tmpdir(), 'drift-e2e-'));
      [schema, s3] = await Promise.all([createPostgresTestSchema(), startS3rver('models')]);
      env = {
        ...productionSettings(schema, s3),
        JWT_SECRET: 'drift-e2e-secret-0123456789abcdef0123',
        ADMIN_USERNAME: ADMIN.username,
        ADMIN_PASSWORD: ADMIN.password,
        ALERTMANAGER_WEBHOOK_TOKEN: WEBHOOK_TOKEN,
        BCRYPT_COST: '4',
        BOOTSTRAP_MODEL: 'off',
        MODEL_POLL_INTERVAL_MS: '200',
        RATE_LIMIT_PER_MINUTE: '0',
        IP_RATE_LIMIT_PER_MINUTE: '0',
        DRIFT_WINDOW: String(WINDOW),
        DRIFT_MIN_WINDOW: String(WINDOW / 2),
        DRIFT_AUDIT_BOOST_RATE: '0.3',
        DRIFT_AUDIT_BOOST_MINUTES: '30',
        LOG_LEVEL: 'log',
      };
      // A version whose artifact carries its drift reference: its answers on texts like its training texts.
      const modelDir = await trainFixtureModel(0, { withImages: false });
      const classifier = await ProductClassifier.load(modelDir);
      const texts = fixtureTexts(WINDOW);
      const answers = await classifier.predict(texts, classifier.classes.length);
      const reference: DriftReference = {
        schema: 1,
        classes: [...classifier.classes],
        rows: answers.map((answer, i) => ({
          predicted: answer.prdtypecode,
          confidence: answer.probability,
          probabilities: classifier.classes.map(
            (code) => answer.top.find((t) => t.prdtypecode === code)!.probability,
          ),
          label: answer.prdtypecode,
          ...describeInput(classifier, texts[i]),
        })),
      };
      const withReference = join(root, 'model');
      await classifier.save(withReference, { metrics: {}, 'model-card': {}, 'drift-reference': reference });
      classifier.dispose();
      rmSync(modelDir, { recursive: true, force: true });
      const dataSource = await openDataSource(
        AppConfig.fromEnvironment({ ...env, VAR_DIR: join(root, 'test') }),
      );
      const store = new S3ArtifactStore({ ...s3, region: 'us-east-1' });
      const registry = new ModelRegistry(dataSource, store);
      version = (await registry.register(withReference, { createdBy: 'e2e', source: 'e2e' })).version;
      await registry.promote(version, { actor: 'e2e' });
      await dataSource.destroy();
      store.onModuleDestroy();

      const apiPort = await freePort();
      api = `http://127.0.0.1:${apiPort}`;
      const apiProcess = startNodeEntry('api', 'apps/api/src/main.ts', {
        env: { ...env, PORT: String(apiPort), VAR_DIR: join(root, 'api') },
      });
      children.push(apiProcess);
      await waitUntilAnswering(apiProcess, `${api}/health/ready`, 120_000);
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

    it('judges nothing under the minimum window, then a shifted window fires ModelDrift, which boosts audits and retrains nothing', async () => {
      const early = await call<DriftBody>('/v1/monitoring/drift');
      expect(early.status).toBe(200);
      expect(early.body.window).toMatchObject({ size: WINDOW, minWindow: WINDOW / 2 });
      expect(early.body.versions).toEqual([
        expect.objectContaining({ modelVersion: version, serving: true, predictions: 0, judged: false }),
      ]);

      const monitoring = await startLocalMonitoring({
        dir: root,
        api,
        webhookToken: WEBHOOK_TOKEN,
        alertFor: '2s',
        driftAlertFor: '2s',
        repeatInterval: '2s',
      });
      children.push(...monitoring.processes);

      // Products the model never saw the words of.
      const strange = Array.from({ length: WINDOW }, (_, i) => ({
        designation: `zorglub quantique hyperbolique ${i}`,
        description: 'accessoire inconnu',
      }));
      const answered = await call<{ modelVersion: string }>('/v1/predictions/batch', { items: strange });
      expect(answered).toMatchObject({ status: 200, body: { modelVersion: version } });

      const drift = (await call<DriftBody>('/v1/monitoring/drift')).body.versions[0];
      expect(drift).toMatchObject({ predictions: WINDOW, judged: true });
      const unseen = drift.signals.find((s) => s.signal === 'unseen_tokens')!;
      expect(unseen.threshold).not.toBeNull();
      expect(unseen).toMatchObject({ drifting: true });
      expect(drift.classShifts.length).toBeGreaterThan(0);

      const firing = await waitFor(
        'ModelDrift to fire in Prometheus',
        async () =>
          (await monitoring.firingAlerts()).find(
            (a) => a.labels.alertname === 'ModelDrift' && a.labels.signal === 'unseen_tokens',
          ),
        60_000,
        children,
      );
      expect(firing.labels).toMatchObject({ model_version: version, severity: 'warning' });

      const boost = await waitFor(
        'the audit boost',
        async () => (await call<DriftBody>('/v1/monitoring/drift')).body.versions[0].auditBoost ?? undefined,
        60_000,
        children,
      );
      expect(boost.rate).toBe(0.3);
      expect(boost.reason).toMatch(new RegExp(`drift on model ${version}`));

      // Alertmanager repeats the alert every 2 s: recorded once as boosted, then as duplicates; no retraining.
      await waitFor(
        'a repeat of the alert',
        async () =>
          /^alertmanager_webhook_alerts_total\{alertname="ModelDrift",status="firing",result="duplicate"\} [1-9]/m.test(
            await (await fetch(`${api}/metrics`)).text(),
          )
            ? true
            : undefined,
        30_000,
        children,
      );
      const metrics = await (await fetch(`${api}/metrics`)).text();
      expect(metrics).toMatch(
        new RegExp(`^model_drift_signal\\{model_version="${version}",signal="unseen_tokens"\\} `, 'm'),
      );
      expect(metrics).toMatch(
        new RegExp(`^model_estimated_weighted_f1\\{model_version="${version}"\\} `, 'm'),
      );
      expect((await call<unknown[]>('/v1/retraining-jobs')).body).toEqual([]);
    });
  },
);
