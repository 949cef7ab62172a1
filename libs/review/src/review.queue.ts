import { Brackets, DataSource, type EntityManager, type SelectQueryBuilder } from 'typeorm';
import {
  FeedbackEntity,
  PredictionEntity,
  ReviewItemEntity,
  runInTransaction,
  type FeedbackSource,
  type ReviewReason,
} from '@app/database';
import { FeedbackConflictError, FeedbackStore, type LabelResult } from '@app/feedback';
import { ReviewItemClosedError, ReviewItemLeasedError, ReviewItemNotFoundError } from './review.errors';
import { sampleForReview, titleKey, uncertaintyMargin, type ReviewCandidate } from './review-sampling.util';

/** Why a reviewer passed on a listing; counted per reason in the stats. */
export const SKIP_REASONS = [
  'unsure',
  'no-fitting-category',
  'not-a-product',
  'unreadable',
  'other',
] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

export interface ReviewQueueOptions {
  /** How long an item handed to a reviewer stays theirs. */
  leaseSeconds: number;
  /**
   * The share of all predictions drawn at random into the audit sample (AUDIT_SAMPLE_RATE), or the share for a
   * model version now (a drift alert may raise it for a while).
   */
  auditRate: number | ((modelVersion: string) => Promise<number>);
  /** Uniform draws in [0, 1); Math.random unless a test fixes them. */
  random?: () => number;
}

export interface Reviewer {
  name: string;
  /** Administrators may replace a label that differs (audited), as with any feedback. */
  mayOverwrite: boolean;
}

/** One listing as a reviewer sees it. */
export interface ReviewListing {
  id: string;
  modelVersion: string;
  predictedAt: Date;
  reason: ReviewReason;
  samplingProbability: number;
  margin: number;
  designation: string;
  description: string | null;
  imageSha256: string | null;
  /** The model's answer. */
  prdtypecode: number;
  /** The model's three most probable classes, with calibrated probabilities. */
  top: { prdtypecode: number; category: string; probability: number }[];
  leasedBy: string;
  leaseUntil: Date;
  /** Other listings waiting with a near-duplicate title: labelling this one labels them too. */
  duplicates: number;
}

export interface ReviewLabelOutcome {
  result: LabelResult;
  source: FeedbackSource;
  /** Near-duplicate listings given the same label. */
  collapsed: number;
}

export interface ReviewStats {
  since: Date;
  left: number;
  leftByReason: Record<ReviewReason, number>;
  leased: number;
  labelledToday: number;
  labelledTodayByYou: number;
  /** Of labelledToday: near-duplicates labelled along with the listing a reviewer labelled. */
  collapsedToday: number;
  skippedToday: number;
  skippedTodayByReason: Record<string, number>;
}

/** Items whose collapse a label may trigger at once; the rest wait for the next label of that title. */
const MAX_COLLAPSE = 100;
/** Rows per INSERT when admitting (13 columns: far under SQLite's bound-parameter limit). */
const ADMIT_CHUNK = 500;
/** A claimed item another reviewer took between the read and the update: pick again. */
const CLAIM_ATTEMPTS = 8;

/**
 * The review queue: predictions automatic acceptance sent to a human, plus a uniform random audit sample of all
 * traffic. Served audit first (they keep the live F1 fed), then by uncertainty (smallest margin between the top two
 * calibrated probabilities), oldest first among equal margins; listings with a near-duplicate title are one item to
 * a reviewer. A served item is leased: the claim is one guarded UPDATE (on PostgreSQL after SELECT … FOR UPDATE
 * SKIP LOCKED; SQLite runs a data source's transactions one at a time), so two reviewers never hold the same item.
 * Labels go through FeedbackStore, like any other, with their source.
 */
export class ReviewQueue {
  private readonly feedback: FeedbackStore;
  private readonly postgres: boolean;
  private readonly random: () => number;
  private readonly auditRate: (modelVersion: string) => Promise<number>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly options: ReviewQueueOptions,
  ) {
    this.feedback = new FeedbackStore(dataSource);
    this.postgres = dataSource.options.type === 'postgres';
    this.random = options.random ?? Math.random;
    const { auditRate } = options;
    this.auditRate = typeof auditRate === 'number' ? () => Promise.resolve(auditRate) : auditRate;
  }

  /** Queues the candidates that need a human or fall in the audit sample; returns how many entered. */
  async admit(candidates: readonly ReviewCandidate[]): Promise<number> {
    const rates = new Map<string, number>();
    for (const version of new Set(candidates.map((c) => c.modelVersion))) {
      rates.set(version, await this.auditRate(version));
    }
    const rows: ReviewItemEntity[] = [];
    for (const candidate of candidates) {
      const sampling = sampleForReview(candidate.decision, rates.get(candidate.modelVersion)!, this.random());
      if (!sampling) continue;
      rows.push({
        predictionId: candidate.id,
        modelVersion: candidate.modelVersion,
        predictedAt: candidate.createdAt,
        prdtypecode: candidate.prdtypecode,
        ...sampling,
        margin: uncertaintyMargin(candidate.top),
        titleKey: titleKey(candidate.designation, candidate.id),
        status: 'pending',
        leasedBy: null,
        leaseUntil: null,
        decidedBy: null,
        decidedAt: null,
        label: null,
        skipReason: null,
        collapsedInto: null,
        createdAt: new Date(),
      });
    }
    for (let start = 0; start < rows.length; start += ADMIT_CHUNK) {
      const chunk = rows.slice(start, start + ADMIT_CHUNK);
      await runInTransaction(this.dataSource, (manager) =>
        manager.createQueryBuilder().insert().into(ReviewItemEntity).values(chunk).orIgnore().execute(),
      );
    }
    return rows.length;
  }

  /**
   * The reviewer's next listing, leased to them for leaseSeconds: the one they already hold if any, else the first
   * free one. Null when nothing is left.
   */
  async next(reviewer: string, now = new Date()): Promise<ReviewListing | null> {
    const leaseUntil = new Date(now.getTime() + this.options.leaseSeconds * 1000);
    const held = await this.items()
      .createQueryBuilder('r')
      .where('r.status = :pending AND r.leasedBy = :reviewer AND r.leaseUntil > :now', {
        pending: 'pending',
        reviewer,
        now,
      })
      .andWhere(`NOT EXISTS ${this.labelOf('r')}`)
      .orderBy('r.leaseUntil', 'ASC')
      .getOne();
    if (
      held &&
      (await this.lease(this.dataSource.manager, held.predictionId, reviewer, now, leaseUntil, true))
    ) {
      return this.listing(held.predictionId);
    }
    for (let attempt = 0; attempt < CLAIM_ATTEMPTS; attempt++) {
      const claimed = await runInTransaction(this.dataSource, async (manager) => {
        const query = this.free(manager, now).select('r.predictionId', 'id').limit(1);
        if (this.postgres) query.setLock('pessimistic_write').setOnLocked('skip_locked');
        const row = await query.getRawOne<{ id: string }>();
        if (!row) return null;
        return (await this.lease(manager, row.id, reviewer, now, leaseUntil, false)) ? row.id : undefined;
      });
      if (claimed === null) return null;
      if (claimed) return this.listing(claimed);
    }
    return null;
  }

  /** Labels the item through the feedback workflow, and its waiting near-duplicates with it. */
  async label(
    id: string,
    prdtypecode: number,
    reviewer: Reviewer,
    now = new Date(),
  ): Promise<ReviewLabelOutcome> {
    const item = await this.open(id, reviewer.name, now, prdtypecode);
    const source: FeedbackSource = item.reason === 'audit' ? 'audit' : 'review';
    const { result } = await this.feedback.label(this.targetOf(item), prdtypecode, { ...reviewer, source });
    await this.close(id, { status: 'labelled', label: prdtypecode }, reviewer.name, now);
    const collapsed = await this.collapseDuplicates(item, prdtypecode, reviewer, now);
    return { result, source, collapsed };
  }

  async skip(id: string, reason: SkipReason, reviewer: string, now = new Date()): Promise<void> {
    await this.open(id, reviewer, now);
    await this.close(id, { status: 'skipped', skipReason: reason }, reviewer, now);
  }

  async stats(reviewer: string, now = new Date()): Promise<ReviewStats> {
    const since = new Date(now);
    since.setUTCHours(0, 0, 0, 0);
    const waiting = await this.waiting(this.items().createQueryBuilder('r'))
      .select('r.reason', 'reason')
      .addSelect('COUNT(*)', 'n')
      .addSelect('SUM(CASE WHEN r.leaseUntil > :now THEN 1 ELSE 0 END)', 'leased')
      .setParameter('now', now)
      .groupBy('r.reason')
      .getRawMany<{ reason: ReviewReason; n: string | number; leased: string | number | null }>();
    const decided = await this.items()
      .createQueryBuilder('r')
      .select('r.status', 'status')
      .addSelect('r.skipReason', 'skipReason')
      .addSelect('COUNT(*)', 'n')
      .addSelect('SUM(CASE WHEN r.decidedBy = :reviewer THEN 1 ELSE 0 END)', 'mine')
      .addSelect('SUM(CASE WHEN r.collapsedInto IS NOT NULL THEN 1 ELSE 0 END)', 'collapsed')
      .where('r.decidedAt >= :since', { since })
      .setParameter('reviewer', reviewer)
      .groupBy('r.status')
      .addGroupBy('r.skipReason')
      .getRawMany<{
        status: string;
        skipReason: string | null;
        n: string | number;
        mine: string | number | null;
        collapsed: string | number | null;
      }>();
    const stats: ReviewStats = {
      since,
      left: 0,
      leftByReason: { review: 0, audit: 0 },
      leased: 0,
      labelledToday: 0,
      labelledTodayByYou: 0,
      collapsedToday: 0,
      skippedToday: 0,
      skippedTodayByReason: {},
    };
    for (const row of waiting) {
      stats.leftByReason[row.reason] = Number(row.n);
      stats.left += Number(row.n);
      stats.leased += Number(row.leased ?? 0);
    }
    for (const row of decided) {
      if (row.status === 'labelled') {
        stats.labelledToday += Number(row.n);
        stats.labelledTodayByYou += Number(row.mine ?? 0);
        stats.collapsedToday += Number(row.collapsed ?? 0);
      } else if (row.status === 'skipped') {
        stats.skippedToday += Number(row.n);
        const reason = row.skipReason ?? 'other';
        stats.skippedTodayByReason[reason] = (stats.skippedTodayByReason[reason] ?? 0) + Number(row.n);
      }
    }
    return stats;
  }

  /** The photo hash of a queued item's listing: undefined when no such item, null when it has no photo. */
  async imageOf(id: string): Promise<string | null | undefined> {
    if (!(await this.items().existsBy({ predictionId: id }))) return undefined;
    const prediction = await this.dataSource
      .getRepository(PredictionEntity)
      .findOne({ select: { id: true, imageSha256: true }, where: { id } });
    return prediction?.imageSha256 ?? null;
  }

  /** Pending items whose prediction is stored and has no label yet (a caller may have labelled it meanwhile). */
  private waiting(query: SelectQueryBuilder<ReviewItemEntity>): SelectQueryBuilder<ReviewItemEntity> {
    const stored = query
      .subQuery()
      .select('1')
      .from(PredictionEntity, 'p')
      .where('"p"."id" = "r"."prediction_id"')
      .getQuery();
    return query
      .where('r.status = :pending', { pending: 'pending' })
      .andWhere(`EXISTS ${stored}`)
      .andWhere(`NOT EXISTS ${this.labelOf('r', query)}`);
  }

  /** Waiting, not leased, no near-duplicate leased: in serving order. */
  private free(manager: EntityManager, now: Date): SelectQueryBuilder<ReviewItemEntity> {
    const query = manager.getRepository(ReviewItemEntity).createQueryBuilder('r');
    const duplicateLeased = query
      .subQuery()
      .select('1')
      .from(ReviewItemEntity, 'd')
      .where('"d"."title_key" = "r"."title_key"')
      .andWhere('"d"."prediction_id" <> "r"."prediction_id"')
      .andWhere('"d"."status" = :pending')
      .andWhere('"d"."lease_until" > :now')
      .getQuery();
    return this.waiting(query)
      .andWhere(new Brackets((b) => b.where('r.leaseUntil IS NULL').orWhere('r.leaseUntil <= :now', { now })))
      .andWhere(`NOT EXISTS ${duplicateLeased}`)
      .orderBy('r.priority', 'ASC')
      .addOrderBy('r.margin', 'ASC')
      .addOrderBy('r.predictedAt', 'ASC')
      .addOrderBy('r.predictionId', 'ASC');
  }

  private labelOf(alias: string, query?: SelectQueryBuilder<ReviewItemEntity>): string {
    return (query ?? this.items().createQueryBuilder(alias))
      .subQuery()
      .select('1')
      .from(FeedbackEntity, 'f')
      .where(`"f"."prediction_id" = "${alias}"."prediction_id"`)
      .getQuery();
  }

  /** Leases a pending item that is free (or already the reviewer's, when `renew`); false if someone was faster. */
  private async lease(
    manager: EntityManager,
    id: string,
    reviewer: string,
    now: Date,
    leaseUntil: Date,
    renew: boolean,
  ): Promise<boolean> {
    const result = await manager
      .createQueryBuilder()
      .update(ReviewItemEntity)
      .set({ leasedBy: reviewer, leaseUntil })
      .where('prediction_id = :id AND status = :pending', { id, pending: 'pending' })
      .andWhere(
        new Brackets((b) => {
          b.where('lease_until IS NULL').orWhere('lease_until <= :now', { now });
          if (renew) b.orWhere('leased_by = :reviewer', { reviewer });
        }),
      )
      .execute();
    return result.affected === 1;
  }

  /**
   * The item, if the reviewer may decide it now: pending and not leased to someone else. The same label again on
   * a labelled item is let through (a retried request), to be answered `unchanged`.
   */
  private async open(id: string, reviewer: string, now: Date, label?: number): Promise<ReviewItemEntity> {
    const item = await this.items().findOneBy({ predictionId: id });
    if (!item) throw new ReviewItemNotFoundError(id);
    if (item.status === 'labelled' && label !== undefined && item.label === label) return item;
    if (item.status !== 'pending') throw new ReviewItemClosedError(id, item.status);
    if (item.leaseUntil && item.leaseUntil > now && item.leasedBy !== reviewer) {
      throw new ReviewItemLeasedError(id, item.leaseUntil);
    }
    return item;
  }

  private async close(
    id: string,
    decision: Pick<ReviewItemEntity, 'status'> & Partial<ReviewItemEntity>,
    reviewer: string,
    now: Date,
    collapsedInto: string | null = null,
  ): Promise<void> {
    await runInTransaction(this.dataSource, (manager) =>
      manager.update(
        ReviewItemEntity,
        { predictionId: id, status: 'pending' },
        { ...decision, decidedBy: reviewer, decidedAt: now, leasedBy: null, leaseUntil: null, collapsedInto },
      ),
    );
  }

  private async collapseDuplicates(
    item: ReviewItemEntity,
    prdtypecode: number,
    reviewer: Reviewer,
    now: Date,
  ): Promise<number> {
    const duplicates = await this.waiting(this.items().createQueryBuilder('r'))
      .andWhere('r.titleKey = :key AND r.reason = :review AND r.predictionId <> :id', {
        key: item.titleKey,
        review: 'review',
        id: item.predictionId,
      })
      .andWhere(
        new Brackets((b) =>
          b
            .where('r.leaseUntil IS NULL')
            .orWhere('r.leaseUntil <= :now', { now })
            .orWhere('r.leasedBy = :reviewer', { reviewer: reviewer.name }),
        ),
      )
      .orderBy('r.predictedAt', 'ASC')
      .limit(MAX_COLLAPSE)
      .getMany();
    let collapsed = 0;
    for (const duplicate of duplicates) {
      try {
        await this.feedback.label(this.targetOf(duplicate), prdtypecode, { ...reviewer, source: 'review' });
      } catch (error) {
        // Its caller labelled it differently meanwhile: their label stands, and the item leaves the queue.
        if (error instanceof FeedbackConflictError) continue;
        throw error;
      }
      await this.close(
        duplicate.predictionId,
        { status: 'labelled', label: prdtypecode },
        reviewer.name,
        now,
        item.predictionId,
      );
      collapsed++;
    }
    return collapsed;
  }

  private async listing(id: string): Promise<ReviewListing | null> {
    const item = await this.items().findOneBy({ predictionId: id });
    const prediction = await this.dataSource.getRepository(PredictionEntity).findOneBy({ id });
    if (!item || !prediction || !item.leasedBy || !item.leaseUntil) return null;
    const duplicates = await this.waiting(this.items().createQueryBuilder('r'))
      .andWhere('r.titleKey = :key AND r.predictionId <> :id', { key: item.titleKey, id })
      .getCount();
    return {
      id,
      modelVersion: item.modelVersion,
      predictedAt: item.predictedAt,
      reason: item.reason,
      samplingProbability: item.samplingProbability,
      margin: item.margin,
      designation: prediction.designation,
      description: prediction.description,
      imageSha256: prediction.imageSha256,
      prdtypecode: item.prdtypecode,
      top: prediction.top.slice(0, 3).map(({ prdtypecode, category, probability }) => ({
        prdtypecode,
        category,
        probability,
      })),
      leasedBy: item.leasedBy,
      leaseUntil: item.leaseUntil,
      duplicates,
    };
  }

  private targetOf(item: ReviewItemEntity) {
    return {
      id: item.predictionId,
      modelVersion: item.modelVersion,
      prdtypecode: item.prdtypecode,
      createdAt: item.predictedAt,
    };
  }

  private items() {
    return this.dataSource.getRepository(ReviewItemEntity);
  }
}
