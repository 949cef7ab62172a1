import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { UserAccounts } from '@app/accounts';
import { FeedbackEntity } from '@app/database';
import { createPostgresTestSchema } from '@app/database/testing';
import { LiveQuality } from '@app/feedback';
import { PRODUCT_TYPE_CODES } from '@app/ml';
import { trainFixtureModel } from '@app/ml/testing';
import { startTestApi, type TestApi } from './support/test-api';

const DRIVERS: { name: string; create(): Promise<{ env: Record<string, string>; drop(): Promise<void> }> }[] =
  [
    {
      name: 'PostgreSQL',
      async create() {
        const schema = await createPostgresTestSchema();
        return { env: { DATABASE_URL: schema.url, DATABASE_SCHEMA: schema.schema }, drop: schema.drop };
      },
    },
    {
      name: 'SQLite',
      async create() {
        const dir = mkdtempSync(join(tmpdir(), 'review-e2e-'));
        return {
          env: { VAR_DIR: join(dir, 'var') },
          drop: async () => rmSync(dir, { recursive: true, force: true }),
        };
      },
    },
  ];

/** Distinct words, so that no two titles are near-duplicates of each other. */
const WORDS = [
  'piscine',
  'guitare',
  'poupee',
  'console',
  'lampe',
  'chaise',
  'drone',
  'tente',
  'montre',
  'stylo',
  'casque',
  'tapis',
  'jardin',
  'bouilloire',
  'puzzle',
  'figurine',
  'coussin',
  'raquette',
  'manette',
  'livre',
  'affiche',
  'pompe',
  'filtre',
  'robot',
  'ballon',
  'velo',
  'skate',
  'couteau',
  'assiette',
  'bougie',
  'miroir',
  'horloge',
];
const PASSWORD = 'reviewer-password-for-tests';

interface Item {
  id: string;
  prdtypecode: number;
  top: { prdtypecode: number; probability: number; category: string }[];
}

describe.each(DRIVERS)('review queue routes on $name (e2e)', (driver) => {
  let api: TestApi;
  let drop: () => Promise<void>;
  let dataSource: DataSource;
  const tokens: Record<string, string> = {};
  let titles = 0;

  const as = (reviewer: string) => request.agent(api.http).set('Authorization', `Bearer ${tokens[reviewer]}`);

  beforeAll(async () => {
    const database = await driver.create();
    drop = database.drop;
    api = await startTestApi({
      ...database.env,
      AUDIT_SAMPLE_RATE: '0',
      REVIEW_LEASE_SECONDS: '60',
      LIVE_MIN_SAMPLES: '4',
      LIVE_F1_THRESHOLD: '0.7',
    });
    dataSource = api.app.get(DataSource);
    const { version } = await api.registry.register(await trainFixtureModel(), {
      createdBy: 'test',
      source: 'test',
    });
    await api.registry.promote(version, { actor: 'test' });
    await api.waitForVersion(version);
    await api.app.listen(0, '127.0.0.1');
    for (const username of ['rita', 'remy']) {
      await api.app.get(UserAccounts).create({ username, password: PASSWORD, roles: ['reviewer'] });
      const login = await request(api.http)
        .post('/v1/auth/token')
        .type('form')
        .send({ grant_type: 'password', username, password: PASSWORD })
        .expect(200);
      tokens[username] = login.body.access_token;
    }
  });
  afterAll(async () => {
    await api?.app.close();
    await drop?.();
  });

  /** Predictions made by a client, then waits until they are stored and the queue holds them all. */
  async function predict(n: number): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const designation = `${WORDS[titles % WORDS.length]} ${WORDS[(titles * 7 + 3) % WORDS.length]} modele ${'abcdefghijklmnopqrstuvwxyz'[Math.floor(titles / WORDS.length)]}x`;
      titles++;
      const answer = await api
        .as('client')
        .post('/v1/predictions')
        .send({ designation, description: '<p>Très <b>bon</b> état</p>' })
        .expect(200);
      ids.push(answer.body.id);
    }
    const deadline = Date.now() + 10_000;
    for (;;) {
      const queued = await dataSource.query(
        `SELECT COUNT(*) AS n FROM review_items r JOIN predictions p ON p.id = r.prediction_id WHERE r.prediction_id IN (${ids.map((_, i) => (dataSource.options.type === 'postgres' ? `$${i + 1}` : '?')).join(', ')})`,
        ids,
      );
      if (Number(queued[0].n) === n) return ids;
      if (Date.now() > deadline) throw new Error('predictions never reached the review queue');
      await new Promise((done) => setTimeout(done, 50));
    }
  }

  async function drain(reviewer: string): Promise<void> {
    for (;;) {
      const { item } = (await as(reviewer).get('/v1/review/next').expect(200)).body;
      if (!item) return;
      await as(reviewer).post(`/v1/review/${item.id}`).send({ skip: 'other' }).expect(200);
    }
  }

  it('hands a listing to a reviewer, takes a label by the feedback workflow and a skip, and counts them', async () => {
    await drain('rita');
    const [first, second] = await predict(2);
    const before = (await as('rita').get('/v1/review/stats').expect(200)).body;
    const { item } = (await as('rita').get('/v1/review/next').expect(200)).body as {
      item: Item & Record<string, unknown>;
    };
    expect([first, second]).toContain(item.id);
    expect(item).toMatchObject({
      reason: 'review',
      description: '<p>Très <b>bon</b> état</p>',
      hasImage: false,
    });
    expect(item.top).toHaveLength(3);
    expect((await as('rita').get('/v1/review/next').expect(200)).body.item.id).toBe(item.id);
    const code = item.top[1].prdtypecode;
    const labelled = await as('rita').post(`/v1/review/${item.id}`).send({ prdtypecode: code }).expect(200);
    expect(labelled.body).toMatchObject({
      id: item.id,
      status: 'labelled',
      result: 'created',
      source: 'review',
      collapsed: 0,
    });
    const stored = await dataSource.getRepository(FeedbackEntity).findOneByOrFail({ predictionId: item.id });
    expect(stored).toMatchObject({ truePrdtypecode: code, reportedBy: 'rita', source: 'review' });
    await as('rita')
      .post(`/v1/review/${item.id}`)
      .send({ prdtypecode: code })
      .expect(200, /"unchanged"/);

    const other = (await as('rita').get('/v1/review/next').expect(200)).body.item as Item;
    expect(other.id).toBe(item.id === first ? second : first);
    await as('rita')
      .post(`/v1/review/${other.id}`)
      .send({ skip: 'unsure' })
      .expect(200, /"skipped"/);
    const after = (await as('rita').get('/v1/review/stats').expect(200)).body;
    expect(after.labelledToday - before.labelledToday).toBe(1);
    expect(after.labelledTodayByYou - before.labelledTodayByYou).toBe(1);
    expect((after.skippedTodayByReason.unsure ?? 0) - (before.skippedTodayByReason.unsure ?? 0)).toBe(1);
    expect(after.left).toBe(before.left - 2);
    const metrics = await request(api.http).get('/metrics').expect(200);
    expect(metrics.text).toMatch(/review_decisions_total\{action="labelled",reason="review"\} [1-9]/);
  });

  it('answers bad input with a clear 4xx', async () => {
    await drain('rita');
    const [id] = await predict(1);
    const post = (body: object, target = id) => as('rita').post(`/v1/review/${target}`).send(body);
    expect((await post({}).expect(400)).body.message).toMatch(/either prdtypecode .* or skip/);
    await post({ prdtypecode: 10, skip: 'unsure' }).expect(400);
    expect((await post({ prdtypecode: 12345 }).expect(400)).body.message).toMatch(/27 product type codes/);
    expect(JSON.stringify((await post({ prdtypecode: 'ten' }).expect(400)).body.message)).toMatch(
      /prdtypecode/,
    );
    expect(JSON.stringify((await post({ skip: 'bored' }).expect(400)).body.message)).toMatch(
      /skip must be one of/,
    );
    await post({ prdtypecode: 10, extra: 1 }).expect(400);
    expect((await post({ prdtypecode: 10 }, 'not-a-uuid').expect(400)).body.message).toMatch(/UUID/);
    await post({ prdtypecode: 10 }, '0b8f3a34-6f7c-4d8e-9a4b-1c2d3e4f5a6b').expect(404);
    await as('rita').get('/v1/review/0b8f3a34-6f7c-4d8e-9a4b-1c2d3e4f5a6b/image').expect(404);

    expect((await as('remy').get('/v1/review/next').expect(200)).body.item.id).toBe(id);
    expect((await post({ prdtypecode: 10 }).expect(409)).body.message).toMatch(/leased to another reviewer/);
    await as('remy').post(`/v1/review/${id}`).send({ prdtypecode: 10 }).expect(200);
    expect((await post({ prdtypecode: 40 }).expect(409)).body.message).toMatch(/already labelled/);
  });

  it('gives a reviewer the review routes and nothing else', async () => {
    await as('rita').post('/v1/predictions').send({ designation: 'lampe' }).expect(403);
    await as('rita').get('/v1/models').expect(403);
    await as('rita').get('/v1/monitoring/live').expect(403);
    await as('rita').get('/v1/review/categories').expect(200);
    await api.as('client').get('/v1/review/next').expect(403);
    await api.as('ml-engineer').get('/v1/review/stats').expect(403);
    await api.as('admin').get('/v1/review/stats').expect(200);
    await request(api.http).get('/v1/review/next').expect(401);
  });

  it('never hands the same listing to two reviewers working at once', async () => {
    await drain('rita');
    const ids = await predict(12);
    const seen: Record<string, string[]> = { rita: [], remy: [] };
    const work = async (reviewer: string) => {
      for (;;) {
        const { item } = (await as(reviewer).get('/v1/review/next').expect(200)).body;
        if (!item) return;
        seen[reviewer].push(item.id);
        await as(reviewer)
          .post(`/v1/review/${item.id}`)
          .send({ prdtypecode: item.top[0].prdtypecode })
          .expect(200);
      }
    };
    const asking = await Promise.all(
      ['rita', 'remy', 'rita', 'remy', 'rita', 'remy'].map(async (r) => ({
        reviewer: r,
        id: (await as(r).get('/v1/review/next').expect(200)).body.item.id as string,
      })),
    );
    const heldBy = (reviewer: string) => asking.filter((a) => a.reviewer === reviewer).map((a) => a.id);
    expect(heldBy('rita').filter((id) => heldBy('remy').includes(id))).toEqual([]);
    await Promise.all([work('rita'), work('remy')]);
    expect(seen.rita.filter((id) => seen.remy.includes(id))).toEqual([]);
    expect([...seen.rita, ...seen.remy].sort()).toEqual([...ids].sort());
  });

  it('keeps the live F1 on sampled labels: wrong review labels would fire the alert, and are reported apart', async () => {
    await drain('rita');
    await dataSource.getRepository(FeedbackEntity).clear();
    const ids = await predict(12);
    const consumer = ids.slice(0, 6);
    for (const id of consumer) {
      const { body } = await api.as('client').get(`/v1/predictions/${id}`).expect(200);
      await api
        .as('client')
        .post(`/v1/predictions/${id}/feedback`)
        .send({ prdtypecode: body.prdtypecode })
        .expect(201);
    }
    // The uncertain end: the reviewer finds the model wrong on every one.
    for (;;) {
      const { item } = (await as('rita').get('/v1/review/next').expect(200)).body as { item: Item | null };
      if (!item) break;
      const wrong = PRODUCT_TYPE_CODES.find((code) => code !== item.prdtypecode)!;
      await as('rita').post(`/v1/review/${item.id}`).send({ prdtypecode: wrong }).expect(200);
    }
    const live = (await api.as('ml-engineer').get('/v1/monitoring/live').expect(200)).body;
    expect(live.versions).toHaveLength(1);
    expect(live.versions[0]).toMatchObject({ samples: 6, weightedF1: 1, belowThreshold: false });
    expect(live.reviewLabels).toEqual([expect.objectContaining({ samples: 6, weightedF1: 0 })]);
    const mixed = await new LiveQuality(dataSource, PRODUCT_TYPE_CODES, [
      'consumer',
      'audit',
      'review',
    ]).compute({
      minutes: 60,
      size: 1000,
      minSamples: 4,
    });
    expect(mixed[0].samples).toBe(12);
    expect(mixed[0].weightedF1).toBeLessThan(0.7);
    const metrics = (await request(api.http).get('/metrics').expect(200)).text;
    expect(metrics).toMatch(/model_live_weighted_f1\{model_version="[^"]+"\} 1\b/);
    expect(metrics).toMatch(/model_review_label_weighted_f1\{model_version="[^"]+"\} 0\b/);
  });
});
