import type { ModelRegistry } from './model.registry';
import type { ModelVersionRecord, PromotionResult } from './registry.types';

/**
 * Proves a version can serve before the production pointer moves to it. An API replica loads it (a version that
 * does not load is refused); a process that serves nothing may accept what the registry verified at registration.
 */
export interface PromotionPreparer {
  prepare(record: ModelVersionRecord): Promise<void>;
  /** Forgets a prepared version whose promotion failed after all. */
  discard(version: string): void;
}

/** Tells every replica that the production pointer moved, so that each swaps now rather than at its next poll. */
export interface ProductionAnnouncer {
  announce(version: string, revision: number): Promise<void>;
}

/** For processes that serve no model: the registry verified every file's checksum when the version was registered. */
export const ACCEPT_REGISTERED: PromotionPreparer = {
  prepare: async () => undefined,
  discard: () => undefined,
};

/** For setups without Redis: replicas notice the move when they next poll the registry. */
export const NO_ANNOUNCEMENT: ProductionAnnouncer = { announce: async () => undefined };

export interface PromotionRequest {
  /** Who moves the pointer, for the audit log: a user name, "cli", "bootstrap", "worker". */
  actor: string;
  reason?: string | null;
}

/**
 * Moves the production pointer the one way every transport shares (HTTP, CLI, boot-time bootstrap, worker):
 * prepare the target, compare-and-set the pointer with its audit row, then announce the move.
 */
export class PromotionWorkflow {
  constructor(
    private readonly registry: ModelRegistry,
    private readonly preparer: PromotionPreparer,
    private readonly announcer: ProductionAnnouncer,
  ) {}

  promote(version: string, request: PromotionRequest): Promise<PromotionResult> {
    return this.move((check) => this.registry.promote(version, { ...request, check }));
  }

  /** Back to the version that was in production before the current one. */
  rollback(request: PromotionRequest): Promise<PromotionResult> {
    return this.move((check) => this.registry.rollback({ ...request, check }));
  }

  private async move(
    change: (check: (record: ModelVersionRecord) => Promise<void>) => Promise<PromotionResult>,
  ): Promise<PromotionResult> {
    let candidate: string | undefined;
    let result: PromotionResult;
    try {
      result = await change(async (record) => {
        candidate = record.version;
        await this.preparer.prepare(record);
      });
    } catch (error) {
      if (candidate) this.preparer.discard(candidate);
      throw error;
    }
    await this.announcer.announce(result.audit.toVersion, result.production.revision);
    return result;
  }
}
