import request from 'supertest';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { FeedbackAuditEntity } from '@app/database';
import { trainFixtureModel, writeFixtureDataset } from '@app/ml/testing';
import { startTestApi, type TestApi } from './support/test-api';

const WEBHOOK_TOKEN = 'alertmanager-token-for-tests-0123456789';

interface Prediction {
  id: string;
  prdtypecode: number;
  modelVersion: string;
}

/** Alertmanager's version 4 notification for the given alerts. */
function notification(alerts: object[], status = 'firing') {
  return {
    version: '4',
    groupKey: '{}:{alertname="ModelF1BelowThreshold"}',
    truncatedAlerts: 0,
    status,
    receiver: 'retraining',
    groupLabels: { alertname: 'ModelF1BelowThreshold' },
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://alertmanager:9093',
    alerts,
  };
}

function alert(fingerprint: string, status = 'firing', alertname = 'ModelF1BelowThreshold') {
  return {
    status,
    labels: { alertname, model_version: 'v1', severity: 'warning' },
    annotations: { summary: 'live F1 low' },
    startsAt: '2026-12-02T10:00:00.000Z',
    endsAt: '0001-01-01T00:00:00Z',
    generatorURL: 'http://prometheus:9090/graph',
    fingerprint,
  };
}

describe('feedback, live quality and the Alertmanager webhook (e2e, embedded mode)', () => {
  let root: string;
  let api: TestApi;
  let version: string;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'feedback-e2e-'));
    await writeFixtureDataset(join(root, 'data'));
    const modelDir = await trainFixtureModel();
    api = await startTestApi({
      DATA_DIR: join(root, 'data'),
      GATE_FLOOR: '0',
      FEEDBACK_BATCH_LIMIT: '5',
      LIVE_MIN_SAMPLES: '4',
      LIVE_F1_THRESHOLD: '0.7',
      ALERTMANAGER_WEBHOOK_TOKEN: WEBHOOK_TOKEN,
      RETRAINING_COOLDOWN_MINUTES: '60',
    });
    const record = await api.registry.register(modelDir, { createdBy: 'test', source: 'test' });
    version = record.version;
    await api.registry.promote(version, { actor: 'test' });
    await api.waitForVersion(version);
  });
  afterAll(async () => {
    await api?.app.close();
    rmSync(root, { recursive: true, force: true });
  });

  async function predict(designation: string, role: 'client' | 'admin' = 'client'): Promise<Prediction> {
    return (await api.as(role).post('/v1/predictions').send({ designation }).expect(200)).body as Prediction;
  }

  const webhook = () =>
    request(api.http).post('/v1/webhooks/alertmanager').set('Authorization', `Bearer ${WEBHOOK_TOKEN}`);

  describe('POST /v1/predictions/:id/feedback', () => {
    it('labels a prediction answered a moment ago (still in the write buffer), once', async () => {
      const p = await predict('pompe de filtration pour piscine');
      const wrong = p.prdtypecode === 10 ? 40 : 10;
      const first = await api
        .as('client')
        .post(`/v1/predictions/${p.id}/feedback`)
        .send({ prdtypecode: wrong });
      expect(first.status).toBe(201);
      expect(first.body).toMatchObject({
        predictionId: p.id,
        prdtypecode: wrong,
        predictedPrdtypecode: p.prdtypecode,
        correct: false,
        modelVersion: version,
        result: 'created',
        reportedBy: 'test-client',
      });
      const again = await api
        .as('client')
        .post(`/v1/predictions/${p.id}/feedback`)
        .send({ prdtypecode: wrong });
      expect(again.status).toBe(200);
      expect(again.body.result).toBe('unchanged');

      const other = await api
        .as('client')
        .post(`/v1/predictions/${p.id}/feedback`)
        .send({ prdtypecode: p.prdtypecode })
        .expect(409);
      expect(other.body.message).toContain(`already labelled ${wrong}`);
      expect(other.body.message).toContain('only an admin');

      const fixed = await api
        .as('admin')
        .post(`/v1/predictions/${p.id}/feedback`)
        .send({ prdtypecode: p.prdtypecode })
        .expect(200);
      expect(fixed.body).toMatchObject({ result: 'overwritten', correct: true, reportedBy: 'test-admin' });
      const audit = await api.app
        .get(DataSource)
        .getRepository(FeedbackAuditEntity)
        .findBy({ predictionId: p.id });
      expect(audit).toEqual([
        expect.objectContaining({
          previousPrdtypecode: wrong,
          newPrdtypecode: p.prdtypecode,
          actor: 'test-admin',
        }),
      ]);
    });

    it('hides other clients’ predictions (404), refuses unknown ones (404), bad codes and ids (400)', async () => {
      const mine = await predict('bâche à bulles', 'admin');
      await api
        .as('client')
        .post(`/v1/predictions/${mine.id}/feedback`)
        .send({ prdtypecode: 10 })
        .expect(404);
      await api
        .as('ml-engineer')
        .post(`/v1/predictions/${mine.id}/feedback`)
        .send({ prdtypecode: 10 })
        .expect(201);
      await api
        .as('client')
        .post(`/v1/predictions/${randomUUID()}/feedback`)
        .send({ prdtypecode: 10 })
        .expect(404);
      const code = await api
        .as('client')
        .post(`/v1/predictions/${mine.id}/feedback`)
        .send({ prdtypecode: 11 })
        .expect(400);
      expect(code.body.message).toContain('not one of the 27 product type codes (10, 40');
      const text = await api
        .as('client')
        .post(`/v1/predictions/${mine.id}/feedback`)
        .send({ prdtypecode: 'ten' })
        .expect(400);
      expect(JSON.stringify(text.body.message)).toContain('prdtypecode must be one of the 27');
      await api.as('client').post('/v1/predictions/nope/feedback').send({ prdtypecode: 10 }).expect(400);
    });

    it('waits for a recent prediction that another replica has not written yet, then 404s', async () => {
      // A time-ordered id made just now: the route waits for the row (up to 3 s) before answering it is unknown.
      const started = Date.now();
      const { timeOrderedUuid } = await import('@app/database');
      await api
        .as('admin')
        .post(`/v1/predictions/${timeOrderedUuid()}/feedback`)
        .send({ prdtypecode: 10 })
        .expect(404);
      expect(Date.now() - started).toBeGreaterThanOrEqual(2_500);
    });

    it('finds a prediction by its id written in capitals, at once, on every route that takes one', async () => {
      const p = await predict('coussin de chaise en lin');
      const capitals = p.id.toUpperCase();
      const started = Date.now();
      const labelled = await api
        .as('client')
        .post(`/v1/predictions/${capitals}/feedback`)
        .send({ prdtypecode: 40 })
        .expect(201);
      // Not after the wait meant for another replica's write buffer: this replica holds the prediction.
      expect(Date.now() - started).toBeLessThan(2_500);
      expect(labelled.body.predictionId).toBe(p.id);
      const read = await api.as('client').get(`/v1/predictions/${capitals}`).expect(200);
      expect(read.body.id).toBe(p.id);
      const batch = await api
        .as('ml-engineer')
        .post('/v1/feedback/batch')
        .send({ items: [{ predictionId: capitals, prdtypecode: 40 }] })
        .expect(200);
      expect(batch.body.items).toEqual([
        expect.objectContaining({ predictionId: p.id, status: 200, result: 'unchanged' }),
      ]);
    });

    it('answers at once for an id no replica could have made a moment ago', async () => {
      const { timeOrderedUuid } = await import('@app/database');
      const recent = timeOrderedUuid();
      const ids = [
        // Made "later" than now by more than replicas' clocks differ.
        timeOrderedUuid(Date.now() + 20_000),
        // The time of a recent one, but a variant the service never makes.
        `${recent.slice(0, 19)}0${recent.slice(20)}`,
        randomUUID(),
      ];
      for (const id of ids) {
        const started = Date.now();
        await api.as('admin').post(`/v1/predictions/${id}/feedback`).send({ prdtypecode: 10 }).expect(404);
        expect([id, Date.now() - started < 2_500]).toEqual([id, true]);
      }
    });
  });

  it('imports labels in a batch with a result per item, and refuses more than FEEDBACK_BATCH_LIMIT', async () => {
    const a = await predict('lot de 6 verres à vin');
    const b = await predict('jeu de société');
    const res = await api
      .as('ml-engineer')
      .post('/v1/feedback/batch')
      .send({
        items: [
          { predictionId: a.id, prdtypecode: a.prdtypecode },
          { predictionId: a.id, prdtypecode: a.prdtypecode },
          { predictionId: b.id, prdtypecode: 12 },
          { predictionId: randomUUID(), prdtypecode: 10 },
        ],
      })
      .expect(200);
    expect(res.body.items.map((i: { status: number }) => i.status)).toEqual([201, 200, 400, 404]);
    expect(res.body.summary).toEqual({ created: 1, unchanged: 1, overwritten: 0, rejected: 2 });
    const six = Array.from({ length: 6 }, () => ({ predictionId: a.id, prdtypecode: 10 }));
    const tooMany = await api.as('ml-engineer').post('/v1/feedback/batch').send({ items: six }).expect(413);
    expect(tooMany.body.message).toContain('FEEDBACK_BATCH_LIMIT');
    await api
      .as('client')
      .post('/v1/feedback/batch')
      .send({ items: six.slice(0, 1) })
      .expect(403);
    const bad = await api
      .as('ml-engineer')
      .post('/v1/feedback/batch')
      .send({ items: [{ prdtypecode: 10 }] });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body.message)).toContain('predictionId must be a prediction id');
  });

  it('computes live F1 per version from the labels, in GET /v1/monitoring/live and /metrics alike', async () => {
    // Eight more labels: half right, half wrong.
    for (let i = 0; i < 8; i++) {
      const p = await predict(`article numéro ${i}`);
      const code = i % 2 === 0 ? p.prdtypecode : p.prdtypecode === 10 ? 40 : 10;
      await api.as('client').post(`/v1/predictions/${p.id}/feedback`).send({ prdtypecode: code }).expect(201);
    }
    const { body } = await api.as('ml-engineer').get('/v1/monitoring/live').expect(200);
    expect(body.window).toMatchObject({ size: 1000, minSamples: 4, f1Threshold: 0.7 });
    const live = body.versions.find((v: { modelVersion: string }) => v.modelVersion === version);
    expect(live).toMatchObject({ serving: true, enoughSamples: true });
    expect(live.samples).toBeGreaterThanOrEqual(11);
    expect(live.accuracy).toBeGreaterThan(0.3);
    expect(live.accuracy).toBeLessThan(0.8);
    expect(live.confusion.labels).toHaveLength(live.confusion.matrix.length);
    const counted = live.confusion.matrix.flat().reduce((sum: number, n: number) => sum + n, 0);
    expect(counted).toBe(live.samples);
    expect(live.perClass.length).toBeGreaterThanOrEqual(27);

    const metrics = (await request(api.http).get('/metrics').expect(200)).text;
    const value = (name: string) =>
      Number(new RegExp(`^${name}\\{model_version="${version}"\\} (\\S+)$`, 'm').exec(metrics)?.[1]);
    expect(value('model_live_samples')).toBe(live.samples);
    expect(value('model_live_weighted_f1')).toBeCloseTo(live.weightedF1, 10);
    expect(value('model_live_accuracy')).toBeCloseTo(live.accuracy, 10);
    expect(metrics).toMatch(/^model_live_f1_threshold 0\.7$/m);
    expect(metrics).toMatch(/^model_live_min_samples 4$/m);
    expect(metrics).toMatch(/^feedback_total\{result="created"\} [1-9]/m);
    expect(metrics).toMatch(/^feedback_total\{result="conflict"\} 1$/m);
    await api.as('client').get('/v1/monitoring/live').expect(403);
  });

  describe('POST /v1/webhooks/alertmanager', () => {
    it('starts one retraining per alert, whatever Alertmanager repeats, then keeps a cooldown', async () => {
      // The original and copies of it answered at the same moment: one job, and every answer names it.
      const burst = await Promise.all(
        [0, 1, 2, 3].map(() =>
          webhook()
            .send(notification([alert('aaaa0001')]))
            .expect(200),
        ),
      );
      const answers = burst.map((r) => r.body.alerts[0]);
      expect(answers.filter((a) => a.result === 'enqueued')).toHaveLength(1);
      const first = answers.find((a) => a.result === 'enqueued');
      for (const answer of answers) expect(answer.jobId).toBe(first.jobId);
      expect(first).toMatchObject({
        alertname: 'ModelF1BelowThreshold',
        key: 'aaaa0001@2026-12-02T10:00:00.000Z',
        result: 'enqueued',
        jobId: expect.any(String),
      });
      // Repeats, resends and a second Alertmanager's copy, at once.
      const repeats = await Promise.all(
        [1, 2, 3].map(() =>
          webhook()
            .send(notification([alert('aaaa0001')]))
            .expect(200),
        ),
      );
      for (const r of repeats)
        expect(r.body.alerts[0]).toMatchObject({ result: 'duplicate', jobId: first.jobId });
      // Another alert while the job is queued or running joins it.
      const other = await webhook()
        .send(notification([alert('bbbb0002')]))
        .expect(200);
      expect(other.body.alerts[0]).toMatchObject({ result: 'absorbed', jobId: first.jobId });

      const job = await waitForJob(first.jobId, ['succeeded', 'failed']);
      expect(job.trigger).toBe('alert:aaaa0001@2026-12-02T10:00:00.000Z');

      // Within the cooldown, a new alert is recorded as a skipped job, with the reason.
      const later = await webhook()
        .send(notification([alert('cccc0003')]))
        .expect(200);
      expect(later.body.alerts[0]).toMatchObject({ result: 'cooldown', jobId: expect.any(String) });
      const skipped = await api
        .as('ml-engineer')
        .get(`/v1/retraining-jobs/${later.body.alerts[0].jobId}`)
        .expect(200);
      expect(skipped.body).toMatchObject({
        state: 'skipped',
        trigger: 'alert:cccc0003@2026-12-02T10:00:00.000Z',
      });
      expect(skipped.body.progress.message).toContain('RETRAINING_COOLDOWN_MINUTES');

      // So is an ML engineer's request; an admin may force one; forcing is for admins.
      const asked = await api
        .as('ml-engineer')
        .post('/v1/retraining-jobs')
        .send({ reason: 'again' })
        .expect(200);
      expect(asked.body).toMatchObject({ state: 'skipped', cooledDown: true });
      await api
        .as('ml-engineer')
        .post('/v1/retraining-jobs')
        .send({ reason: 'again', force: true })
        .expect(403);
      const forced = await api
        .as('admin')
        .post('/v1/retraining-jobs')
        .send({
          reason: 'forced',
          force: true,
          params: { neuralModels: 1, linearViews: ['merged'], withImages: false },
        })
        .expect(202);
      expect(forced.body).toMatchObject({ state: 'queued', cooledDown: false });
      await waitForJob(forced.body.id, ['succeeded', 'failed']);

      const metrics = (await request(api.http).get('/metrics').expect(200)).text;
      expect(metrics).toContain(
        'alertmanager_webhook_alerts_total{alertname="ModelF1BelowThreshold",status="firing",result="duplicate"} 6',
      );
    });

    it('records resolved alerts and ignores other alerts, without a job', async () => {
      const res = await webhook()
        .send(
          notification([alert('aaaa0001', 'resolved'), alert('dddd0004', 'firing', 'DiskFull')], 'resolved'),
        )
        .expect(200);
      expect(res.body.alerts).toEqual([
        expect.objectContaining({ result: 'recorded', jobId: null }),
        expect.objectContaining({ result: 'ignored', jobId: null }),
      ]);
    });

    it('answers a malformed notification 400 naming the field, and other callers 401/403', async () => {
      const cases: [object, string][] = [
        [{ ...notification([alert('eeee0005')]), version: '3' }, 'version must be "4"'],
        [notification([{ ...alert('eeee0005'), fingerprint: 'not hex!' }]), 'fingerprint'],
        [notification([{ ...alert('eeee0005'), startsAt: 'yesterday' }]), 'startsAt'],
        [notification([{ ...alert('eeee0005'), labels: { alertname: 5 } }]), 'labels'],
        [{ ...notification([]), alerts: 'none' }, 'alerts must be an array'],
      ];
      for (const [body, field] of cases) {
        const res = await webhook().send(body).expect(400);
        expect([res.body.message].flat().join('; ')).toContain(field);
      }
      await request(api.http).post('/v1/webhooks/alertmanager').send(notification([])).expect(401);
      await api.as('client').post('/v1/webhooks/alertmanager').send(notification([])).expect(403);
    });
  });

  async function waitForJob(id: string, states: string[], timeoutMs = 90_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { body } = await api.as('ml-engineer').get(`/v1/retraining-jobs/${id}`).expect(200);
      if (states.includes(body.state)) return body;
      if (Date.now() > deadline) throw new Error(`job ${id} is ${body.state}/${body.phase}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
});
