import { DataSource } from 'typeorm';
import { FeedbackEntity, PredictionWriter, ReviewItemEntity, timeOrderedUuid } from '@app/database';
import { openTestDatabase, TEST_DATABASES, type OpenTestDatabase } from '@app/database/testing';
import { ReviewItemClosedError, ReviewItemLeasedError, ReviewItemNotFoundError } from './review.errors';
import type { ReviewCandidate } from './review-sampling.util';
import { ReviewQueue } from './review.queue';

const ALICE = { name: 'alice', mayOverwrite: false };

describe.each(TEST_DATABASES)('ReviewQueue on $name', (database) => {
  let dataSource: DataSource;
  let db: OpenTestDatabase;
  let writer: PredictionWriter;
  let clock = Date.parse('2026-12-06T08:00:00Z');

  beforeAll(async () => {
    db = await openTestDatabase(database);
    dataSource = db.dataSource;
    writer = new PredictionWriter(dataSource);
  });
  afterAll(async () => {
    await writer?.close();
    await db?.close();
  });
  beforeEach(async () => {
    await dataSource.getRepository(ReviewItemEntity).clear();
    await dataSource.getRepository(FeedbackEntity).clear();
  });

  /** Stores a prediction (as the API's recorder does) and returns it as a queue candidate. */
  async function predicted(
    designation: string,
    probabilities: [number, number],
    decision: 'accept' | 'review' = 'review',
  ): Promise<ReviewCandidate> {
    clock += 1000;
    const createdAt = new Date(clock);
    const top = [
      { prdtypecode: 10, category: 'Livres', probability: probabilities[0] },
      { prdtypecode: 40, category: 'Jeux', probability: probabilities[1] },
      { prdtypecode: 50, category: 'Accessoires', probability: 1 - probabilities[0] - probabilities[1] },
    ];
    const id = timeOrderedUuid(clock);
    await writer.insert([
      {
        id,
        createdAt,
        modelVersion: 'v1',
        prdtypecode: 10,
        probability: probabilities[0],
        top,
        modality: 'text',
        designation,
        description: `<p>${designation}</p>`,
        imageSha256: null,
        latencyMs: 1,
        requestedBy: 'shop',
      },
    ]);
    return { id, modelVersion: 'v1', createdAt, prdtypecode: 10, designation, top, decision };
  }

  function queue(auditRate = 0, draws: number[] = []) {
    return new ReviewQueue(dataSource, { leaseSeconds: 60, auditRate, random: () => draws.shift() ?? 0.99 });
  }

  it('admits review answers and a random audit sample of all traffic, storing each sampling probability', async () => {
    const q = queue(0.1, [0.05, 0.5, 0.5, 0.05]);
    const audited = await predicted('casque audio', [0.9, 0.05], 'accept');
    const accepted = await predicted('tapis de yoga', [0.9, 0.05], 'accept');
    const review = await predicted('figurine', [0.4, 0.35], 'review');
    const auditedReview = await predicted('coussin', [0.4, 0.35], 'review');
    expect(await q.admit([audited, accepted, review, auditedReview])).toBe(3);
    const rows = await dataSource.getRepository(ReviewItemEntity).find({ order: { predictedAt: 'ASC' } });
    expect(rows.map((r) => [r.predictionId, r.reason, r.samplingProbability])).toEqual([
      [audited.id, 'audit', 0.1],
      [review.id, 'review', 1],
      [auditedReview.id, 'audit', 0.1],
    ]);
    expect(await q.admit([review])).toBe(1);
    expect(await dataSource.getRepository(ReviewItemEntity).count()).toBe(3);
  });

  it('samples each version at its own audit rate when the rate depends on the version (a drift boost)', async () => {
    const q = new ReviewQueue(dataSource, {
      leaseSeconds: 60,
      auditRate: (version) => Promise.resolve(version === 'v1' ? 0.5 : 0),
      random: () => 0.4,
    });
    const boosted = await predicted('enceinte bluetooth', [0.9, 0.05], 'accept');
    expect(await q.admit([boosted, { ...boosted, id: timeOrderedUuid(), modelVersion: 'v2' }])).toBe(1);
    expect(await dataSource.getRepository(ReviewItemEntity).find()).toEqual([
      expect.objectContaining({ predictionId: boosted.id, reason: 'audit', samplingProbability: 0.5 }),
    ]);
  });

  it('serves audit items first, then the smallest margin, oldest first among equal margins', async () => {
    const q = queue(0.5, [0.9, 0.9, 0.9, 0.9, 0.1]);
    const sure = await predicted('montre connectee', [0.7, 0.1]);
    const unsureOld = await predicted('poupee ancienne', [0.41, 0.4]);
    const unsureNew = await predicted('jeu de societe', [0.412, 0.4]);
    const middling = await predicted('guitare electrique', [0.5, 0.3]);
    const audit = await predicted('drone camera', [0.95, 0.01], 'accept');
    await q.admit([sure, unsureNew, middling, unsureOld, audit]);
    const served: string[] = [];
    for (let i = 0; i < 5; i++) served.push((await q.next(`reviewer-${i}`, new Date(clock)))!.id);
    expect(served).toEqual([audit.id, unsureOld.id, unsureNew.id, middling.id, sure.id]);
    expect(await q.next('reviewer-5', new Date(clock))).toBeNull();
  });

  it('hands a listing with its top three, keeps it leased to one reviewer, and frees it when the lease ends', async () => {
    const q = queue();
    const only = await predicted('lampe de chevet', [0.5, 0.3]);
    await q.admit([only]);
    const now = new Date(clock);
    const listing = (await q.next('alice', now))!;
    expect(listing).toMatchObject({
      id: only.id,
      designation: 'lampe de chevet',
      reason: 'review',
      margin: 0.2,
    });
    expect(listing.top.map((t) => t.prdtypecode)).toEqual([10, 40, 50]);
    expect(listing.leaseUntil).toEqual(new Date(now.getTime() + 60_000));
    expect(await q.next('bob', now)).toBeNull();
    expect((await q.next('alice', now))?.id).toBe(only.id);
    await expect(q.label(only.id, 40, { name: 'bob', mayOverwrite: false }, now)).rejects.toThrow(
      ReviewItemLeasedError,
    );
    const later = new Date(now.getTime() + 61_000);
    expect((await q.next('bob', later))?.id).toBe(only.id);
  });

  it('never hands the same item to two reviewers asking at once', async () => {
    const q = queue();
    const items = await Promise.all(
      Array.from({ length: 6 }, (_, i) => predicted(`article ${'abcdefgh'[i]}x`, [0.5, 0.3])),
    );
    await q.admit(items);
    const now = new Date(clock);
    const served = await Promise.all(Array.from({ length: 10 }, (_, i) => q.next(`reviewer-${i}`, now)));
    const ids = served.filter((s) => s !== null).map((s) => s.id);
    expect(ids).toHaveLength(6);
    expect(new Set(ids).size).toBe(6);
  });

  it('labels through the feedback workflow with its source, and near-duplicates with it', async () => {
    const q = queue(0.5, [0.9, 0.9, 0.9, 0.1]);
    const first = await predicted('Lot de 3 stylos BLEUS', [0.4, 0.3]);
    const again = await predicted('stylos bleus - lot de 10', [0.45, 0.3]);
    const other = await predicted('Lot de 3 stylos rouges', [0.5, 0.3]);
    const audit = await predicted('tente de camping', [0.9, 0.05], 'accept');
    await q.admit([first, again, other, audit]);
    const now = new Date(clock);
    expect((await q.next('alice', now))!.id).toBe(audit.id);
    expect(await q.label(audit.id, 40, ALICE, now)).toEqual({
      result: 'created',
      source: 'audit',
      collapsed: 0,
    });
    const listing = (await q.next('alice', now))!;
    expect(listing).toMatchObject({ id: first.id, duplicates: 1 });
    expect((await q.next('bob', now))!.id).toBe(other.id);
    expect(await q.label(first.id, 40, ALICE, now)).toEqual({
      result: 'created',
      source: 'review',
      collapsed: 1,
    });
    const labels = await dataSource.getRepository(FeedbackEntity).find({ order: { predictionId: 'ASC' } });
    expect(labels.map((l) => [l.predictionId, l.truePrdtypecode, l.source, l.reportedBy])).toEqual(
      [
        [first.id, 40, 'review', 'alice'],
        [again.id, 40, 'review', 'alice'],
        [audit.id, 40, 'audit', 'alice'],
      ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    );
    await expect(q.label(first.id, 50, ALICE, now)).rejects.toThrow(ReviewItemClosedError);
    expect(await q.label(first.id, 40, ALICE, now)).toMatchObject({ result: 'unchanged' });
    await expect(q.label(timeOrderedUuid(), 40, ALICE, now)).rejects.toThrow(ReviewItemNotFoundError);
  });

  it('counts what is left, labelled today and skipped per reason; a label from the caller takes an item out', async () => {
    const q = queue();
    const items = await Promise.all(
      ['un', 'deux', 'trois', 'quatre'].map((t) => predicted(`produit ${t}`, [0.5, 0.3])),
    );
    await q.admit(items);
    const now = new Date(clock);
    await q.label(items[0].id, 10, ALICE, now);
    await q.skip(items[1].id, 'unsure', 'bob', now);
    await dataSource.getRepository(FeedbackEntity).insert({
      predictionId: items[2].id,
      modelVersion: 'v1',
      predictedPrdtypecode: 10,
      truePrdtypecode: 10,
      predictedAt: items[2].createdAt,
      labelledAt: now,
      reportedBy: 'shop',
    });
    await q.next('carol', now);
    const stats = await q.stats('alice', now);
    expect(stats).toMatchObject({
      left: 1,
      leftByReason: { review: 1, audit: 0 },
      leased: 1,
      labelledToday: 1,
      labelledTodayByYou: 1,
      skippedToday: 1,
      skippedTodayByReason: { unsure: 1 },
    });
    const tomorrow = new Date(now.getTime() + 24 * 3600_000);
    expect(await q.stats('alice', tomorrow)).toMatchObject({ labelledToday: 0, skippedToday: 0, left: 1 });
    await expect(q.skip(items[1].id, 'other', 'bob', now)).rejects.toThrow(ReviewItemClosedError);
  });
});
