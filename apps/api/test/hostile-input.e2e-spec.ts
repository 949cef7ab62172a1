import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { AlertEventEntity, PredictionEntity, RetrainingJobEntity } from '@app/database';
import { createPostgresTestSchema, type PostgresTestSchema } from '@app/database/testing';
import { trainFixtureModel } from '@app/ml/testing';
import { startTestApi, type TestApi } from './support/test-api';

const WEBHOOK_TOKEN = 'alertmanager-token-for-tests-0123456789';
const ALERT_LIMIT = 300;

/** Alertmanager's version 4 notification for the given alerts. */
function notification(alerts: object[]) {
  return { version: '4', groupKey: '{}', status: 'firing', receiver: 'retraining', alerts };
}

/** A firing alert that is not a retraining alert: recorded, never acted on. */
function alert(fingerprint: string, overrides: { alertname?: string; startsAt?: string } = {}) {
  return {
    status: 'firing',
    labels: { alertname: overrides.alertname ?? 'DiskFull', severity: 'warning' },
    startsAt: overrides.startsAt ?? '2026-12-02T10:00:00.000Z',
    fingerprint,
  };
}

/** A valid RFC 3339 time of exactly `length` characters (fraction digits fill it). */
const startsAtOf = (length: number) => `2026-12-02T10:00:00.${'1'.repeat(length - 21)}Z`;

const DATABASES: [string, () => Promise<PostgresTestSchema | undefined>][] = [
  ['SQLite', async () => undefined],
  ['PostgreSQL', createPostgresTestSchema],
];

/**
 * Values at and past the limits of what each writing route stores, and characters one database stores and the
 * other refuses: every route answers 4xx for what it cannot store, stores nothing of a refused request, and stores
 * what is within its limits, on both databases.
 */
describe.each(DATABASES)('hostile input on the routes that write (e2e, %s)', (_name, database) => {
  let api: TestApi;
  let schema: PostgresTestSchema | undefined;

  beforeAll(async () => {
    schema = await database();
    api = await startTestApi({
      ALERTMANAGER_WEBHOOK_TOKEN: WEBHOOK_TOKEN,
      WEBHOOK_ALERT_LIMIT: String(ALERT_LIMIT),
      ...(schema && { DATABASE_URL: schema.url, DATABASE_SCHEMA: schema.schema }),
    });
    const { version } = await api.registry.register(await trainFixtureModel(), {
      createdBy: 'test',
      source: 'test',
    });
    await api.registry.promote(version, { actor: 'test' });
    await api.waitForVersion(version);
  });
  afterAll(async () => {
    await api?.app.close();
    await schema?.drop();
  });

  const webhook = (body: object) =>
    request(api.http)
      .post('/v1/webhooks/alertmanager')
      .set('Authorization', `Bearer ${WEBHOOK_TOKEN}`)
      .send(body);
  const alertEvents = () => api.app.get(DataSource).getRepository(AlertEventEntity).count();
  const metrics = async () => (await request(api.http).get('/metrics').expect(200)).text;
  const messages = (body: { message: string | string[] }) => [body.message].flat().join('; ');

  it('refuses a notification with an alert that would not fit, naming the field, and records none of its alerts', async () => {
    const before = await alertEvents();
    const first = alert('a1');
    const cases: [object, string][] = [
      [
        alert('a2', { alertname: 'A'.repeat(129) }),
        'alerts[1].labels.alertname must be at most 128 characters',
      ],
      [
        alert('f'.repeat(64), { startsAt: startsAtOf(110) }),
        'alerts[1].startsAt must be an RFC 3339 time of at most 64 characters',
      ],
      [alert('f'.repeat(65)), 'alerts[1].fingerprint must be a hexadecimal fingerprint of 1 to 64 digits'],
      [
        alert('a2', { alertname: 'Disk\u0000Full' }),
        'alerts[1].labels.alertname must not contain the NUL character',
      ],
    ];
    for (const [bad, message] of cases) {
      const res = await webhook(notification([first, bad]));
      expect({ status: res.status, message: messages(res.body) }).toEqual({
        status: 400,
        message: expect.stringContaining(message),
      });
    }
    expect(await alertEvents()).toBe(before);

    // At the limits, the whole notification is recorded, and its resend is a duplicate (the stored key matches).
    const longest = alert('f'.repeat(64), { alertname: 'A'.repeat(128), startsAt: startsAtOf(64) });
    const accepted = await webhook(notification([first, longest])).expect(200);
    expect(accepted.body.alerts.map((a: { result: string }) => a.result)).toEqual(['ignored', 'ignored']);
    expect(accepted.body.alerts[1].key).toBe(`${'f'.repeat(64)}@${startsAtOf(64)}`);
    expect(await alertEvents()).toBe(before + 2);
    const resent = await webhook(notification([first, longest])).expect(200);
    expect(resent.body.alerts.map((a: { result: string }) => a.result)).toEqual(['duplicate', 'duplicate']);
  });

  it(`refuses more than WEBHOOK_ALERT_LIMIT alerts with 413 and records none; ${ALERT_LIMIT} made-up alert names add no series to /metrics`, async () => {
    const before = await alertEvents();
    const many = (n: number, tag: string) =>
      Array.from({ length: n }, (_, i) =>
        alert(`${tag}${i.toString(16).padStart(4, '0')}`, { alertname: `Made_up_${tag}_${i}` }),
      );
    const tooMany = await webhook(notification(many(ALERT_LIMIT + 1, 'b'))).expect(413);
    expect(tooMany.body.message).toContain(`at most ${ALERT_LIMIT} alerts (WEBHOOK_ALERT_LIMIT)`);
    expect(await alertEvents()).toBe(before);

    const series = (text: string) =>
      text.split('\n').filter((l) => l.startsWith('alertmanager_webhook_alerts'));
    const seriesBefore = series(await metrics()).length;
    await webhook(notification(many(ALERT_LIMIT, 'c'))).expect(200);
    expect(await alertEvents()).toBe(before + ALERT_LIMIT);
    const after = series(await metrics());
    expect(after.length - seriesBefore).toBeLessThanOrEqual(1);
    expect(after.join('\n')).not.toMatch(/Made_up/);
    const other = /alertname="other",status="firing",result="ignored"} (\d+)/.exec(after.join('\n'));
    expect(Number(other?.[1])).toBeGreaterThanOrEqual(ALERT_LIMIT);
  });

  it('never turns what a caller sends into a metric label value', async () => {
    const marker = `zq${randomBytes(6).toString('hex')}`;
    const admin = api.as('admin');
    await Promise.all([
      request(api.http).get(`/v1/${marker}`),
      request(api.http).get(`/${marker}/x?${marker}=1`),
      admin.get(`/v1/models/${marker}`),
      admin.post(`/v1/models/${marker}/promote`).send({ reason: marker }),
      admin.patch(`/v1/users/${marker}`).send({ disabled: true }),
      admin.delete(`/v1/service-tokens/${marker}`),
      admin.get(`/v1/retraining-jobs?limit=${marker}`),
      admin.post('/v1/predictions').send({ designation: marker }),
      request(api.http)
        .post('/v1/auth/token')
        .send({ grant_type: marker, username: marker, password: marker }),
      request(api.http)
        .post('/v1/auth/token')
        .send({ grant_type: 'password', username: marker, password: marker }),
      request(api.http).get('/v1/models').set('Authorization', `Bearer ${marker}`),
      request(api.http).get('/v1/models').set('X-Request-Id', marker).set('User-Agent', marker),
      webhook(notification([alert('d1', { alertname: marker })])),
      request(api.http).propfind('/health/live'),
      request(api.http).search(`/${marker}`),
    ]);
    const text = await metrics();
    expect(text).not.toContain(marker);
    expect(text).not.toMatch(/method="(PROPFIND|SEARCH)"/);
    expect(text).toMatch(
      /^http_request_duration_seconds_count\{method="other",route="unmatched",status_code="404"\} \d+$/m,
    );
  });

  it('refuses a NUL character and an over-long value on every route that stores text, with 400 naming the field', async () => {
    const jobs = () => api.app.get(DataSource).getRepository(RetrainingJobEntity).count();
    const jobsBefore = await jobs();
    const admin = () => api.as('admin');
    const cases: [string, () => request.Test, string][] = [
      [
        'prediction',
        () => admin().post('/v1/predictions').send({ designation: 'piscine\u0000' }),
        'designation',
      ],
      [
        'batch',
        () =>
          admin()
            .post('/v1/predictions/batch')
            .send({ items: [{ designation: 'x' }, { description: '\u0000' }] }),
        'items[1].description',
      ],
      ['retraining', () => admin().post('/v1/retraining-jobs').send({ reason: 'new data\u0000' }), 'reason'],
      [
        'retraining',
        () =>
          admin()
            .post('/v1/retraining-jobs')
            .send({ reason: 'r'.repeat(501) }),
        'reason',
      ],
      ['promotion', () => admin().post('/v1/models/v1/promote').send({ reason: '\u0000' }), 'reason'],
      ['model', () => admin().get('/v1/models/v1%00'), 'version'],
      [
        'user',
        () =>
          admin()
            .post('/v1/users')
            .send({ username: 'u'.repeat(129), roles: ['client'] }),
        'username',
      ],
      [
        'user',
        () =>
          admin()
            .post('/v1/users')
            .send({ username: 'u\u0000', roles: ['client'] }),
        'username',
      ],
      ['user', () => admin().patch('/v1/users/%00').send({ disabled: true }), 'username'],
      [
        'service token',
        () =>
          admin()
            .post('/v1/service-tokens')
            .send({ name: 's'.repeat(129), roles: ['client'] }),
        'name',
      ],
      ['service token', () => admin().delete('/v1/service-tokens/%00'), 'name'],
      [
        'token',
        () =>
          request(api.http)
            .post('/v1/auth/token')
            .send({ grant_type: 'password', username: 'a\u0000', password: 'p' }),
        'username',
      ],
    ];
    const answers = [];
    for (const [what, send, field] of cases) {
      const res = await send();
      answers.push({ what, status: res.status, named: messages(res.body).startsWith(field) });
    }
    expect(answers).toEqual(cases.map(([what]) => ({ what, status: 400, named: true })));
    expect(await jobs()).toBe(jobsBefore);

    // At the limits of the columns, it is stored.
    await admin()
      .post('/v1/users')
      .send({ username: 'u'.repeat(128), roles: ['client'] })
      .expect(201);
    await admin()
      .post('/v1/service-tokens')
      .send({ name: 's'.repeat(128), roles: ['client'] })
      .expect(201);
    const { id } = (
      await admin()
        .post('/v1/predictions')
        .send({ designation: 'é'.repeat(2000) })
        .expect(200)
    ).body as { id: string };
    // The prediction reaches the database (it is written a moment after the answer), and no write failed.
    const predictions = api.app.get(DataSource).getRepository(PredictionEntity);
    const deadline = Date.now() + 10_000;
    while (!(await predictions.existsBy({ id }))) {
      if (Date.now() > deadline) throw new Error('the prediction was never stored');
      await new Promise((done) => setTimeout(done, 100));
    }
    expect((await predictions.findOneByOrFail({ id })).designation).toBe('é'.repeat(2000));
    expect(await metrics()).toMatch(/^prediction_records_persist_failures_total 0$/m);
  });
});
