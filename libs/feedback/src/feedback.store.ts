import { DataSource, type EntityManager, type FindOneOptions } from 'typeorm';
import {
  FeedbackAuditEntity,
  FeedbackEntity,
  type FeedbackSource,
  isUniqueViolation,
  runInTransaction,
  timeOrderedUuid,
} from '@app/database';

/** The prediction a label is for, as the API served it (from its write buffer or from the database). */
export interface LabelTarget {
  id: string;
  modelVersion: string;
  prdtypecode: number;
  createdAt: Date;
}

export interface LabelActor {
  name: string | null;
  /** Administrators may replace a label with a different one (audited); everyone else gets a conflict. */
  mayOverwrite: boolean;
  /** Who chose this prediction for labelling (default `consumer`); kept when an administrator overwrites. */
  source?: FeedbackSource;
}

/** created: first label; unchanged: the same label again; overwritten: an administrator replaced it. */
export type LabelResult = 'created' | 'unchanged' | 'overwritten';

export interface LabelOutcome {
  result: LabelResult;
  feedback: FeedbackEntity;
}

/** The prediction already has a different label, and the caller may not replace it. */
export class FeedbackConflictError extends Error {
  constructor(
    readonly existing: FeedbackEntity,
    readonly requested: number,
  ) {
    super(
      `prediction ${existing.predictionId} is already labelled ${existing.truePrdtypecode} ` +
        `(by ${existing.reportedBy ?? 'an unnamed caller'} at ${existing.labelledAt.toISOString()}); ` +
        `only an admin may change it to ${requested}`,
    );
    this.name = 'FeedbackConflictError';
  }
}

/** Transactions of one label that may lose a race with another writer of the same prediction before one succeeds. */
const MAX_ATTEMPTS = 5;

/**
 * Labels of served predictions: one per prediction, set once, replaced only by an administrator. Each label is read
 * and written in one transaction that holds the prediction's label row (a row lock on PostgreSQL; on SQLite the
 * transactions of a data source run one after the other), so that concurrent overwrites queue up and each one's
 * audit row names the label it really replaced.
 */
export class FeedbackStore {
  private readonly lock: FindOneOptions['lock'];

  constructor(private readonly dataSource: DataSource) {
    this.lock = dataSource.options.type === 'postgres' ? { mode: 'pessimistic_write' } : undefined;
  }

  async label(target: LabelTarget, prdtypecode: number, actor: LabelActor): Promise<LabelOutcome> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await runInTransaction(this.dataSource, (manager) =>
          this.labelIn(manager, target, prdtypecode, actor),
        );
      } catch (error) {
        // Another writer stored the first label (there was no row to lock yet), or the same revision, first.
        if (!isUniqueViolation(error) || attempt === MAX_ATTEMPTS) throw error;
      }
    }
  }

  find(predictionId: string): Promise<FeedbackEntity | null> {
    return this.rows().findOneBy({ predictionId });
  }

  /** Label changes of a prediction, oldest first: a chain from the first label to the stored one. */
  history(predictionId: string): Promise<FeedbackAuditEntity[]> {
    return this.dataSource
      .getRepository(FeedbackAuditEntity)
      .find({ where: { predictionId }, order: { revision: 'ASC' } });
  }

  private async labelIn(
    manager: EntityManager,
    target: LabelTarget,
    prdtypecode: number,
    actor: LabelActor,
  ): Promise<LabelOutcome> {
    const labels = manager.getRepository(FeedbackEntity);
    const existing = await labels.findOne({ where: { predictionId: target.id }, lock: this.lock });
    const now = new Date();
    if (!existing) {
      const row: FeedbackEntity = {
        predictionId: target.id,
        modelVersion: target.modelVersion,
        predictedPrdtypecode: target.prdtypecode,
        truePrdtypecode: prdtypecode,
        predictedAt: target.createdAt,
        createdAt: now,
        labelledAt: now,
        reportedBy: actor.name,
        source: actor.source ?? 'consumer',
      };
      await labels.insert(row);
      return { result: 'created', feedback: row };
    }
    if (existing.truePrdtypecode === prdtypecode) return { result: 'unchanged', feedback: existing };
    if (!actor.mayOverwrite) throw new FeedbackConflictError(existing, prdtypecode);
    const audit = manager.getRepository(FeedbackAuditEntity);
    const last = await audit.findOne({
      select: { id: true, revision: true },
      where: { predictionId: target.id },
      order: { revision: 'DESC' },
    });
    const change = { truePrdtypecode: prdtypecode, labelledAt: now, reportedBy: actor.name };
    await labels.update({ predictionId: target.id }, change);
    await audit.insert({
      id: timeOrderedUuid(now.getTime()),
      predictionId: target.id,
      revision: (last?.revision ?? 0) + 1,
      previousPrdtypecode: existing.truePrdtypecode,
      newPrdtypecode: prdtypecode,
      actor: actor.name ?? 'unknown',
      createdAt: now,
    });
    return { result: 'overwritten', feedback: { ...existing, ...change } };
  }

  private rows() {
    return this.dataSource.getRepository(FeedbackEntity);
  }
}
