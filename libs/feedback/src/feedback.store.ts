import { DataSource } from 'typeorm';
import {
  FeedbackAuditEntity,
  FeedbackEntity,
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

/** Labels of served predictions: one per prediction, set once, replaced only by an administrator. */
export class FeedbackStore {
  constructor(private readonly dataSource: DataSource) {}

  async label(target: LabelTarget, prdtypecode: number, actor: LabelActor): Promise<LabelOutcome> {
    const now = new Date();
    const row: FeedbackEntity = {
      predictionId: target.id,
      modelVersion: target.modelVersion,
      predictedPrdtypecode: target.prdtypecode,
      truePrdtypecode: prdtypecode,
      predictedAt: target.createdAt,
      createdAt: now,
      labelledAt: now,
      reportedBy: actor.name,
    };
    try {
      await this.rows().insert(row);
      return { result: 'created', feedback: row };
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
    }
    const existing = await this.rows().findOneByOrFail({ predictionId: target.id });
    if (existing.truePrdtypecode === prdtypecode) return { result: 'unchanged', feedback: existing };
    if (!actor.mayOverwrite) throw new FeedbackConflictError(existing, prdtypecode);
    const replaced = { ...existing, truePrdtypecode: prdtypecode, labelledAt: now, reportedBy: actor.name };
    await runInTransaction(this.dataSource, async (manager) => {
      await manager
        .getRepository(FeedbackEntity)
        .update(
          { predictionId: target.id },
          { truePrdtypecode: prdtypecode, labelledAt: now, reportedBy: actor.name },
        );
      await manager.getRepository(FeedbackAuditEntity).insert({
        id: timeOrderedUuid(now.getTime()),
        predictionId: target.id,
        previousPrdtypecode: existing.truePrdtypecode,
        newPrdtypecode: prdtypecode,
        actor: actor.name ?? 'unknown',
        createdAt: now,
      });
    });
    return { result: 'overwritten', feedback: replaced };
  }

  find(predictionId: string): Promise<FeedbackEntity | null> {
    return this.rows().findOneBy({ predictionId });
  }

  /** Label changes of a prediction, oldest first. */
  history(predictionId: string): Promise<FeedbackAuditEntity[]> {
    return this.dataSource
      .getRepository(FeedbackAuditEntity)
      .find({ where: { predictionId }, order: { createdAt: 'ASC', id: 'ASC' } });
  }

  private rows() {
    return this.dataSource.getRepository(FeedbackEntity);
  }
}
