/** One file of a registered model version, as stored under models/<version>/<path>. */
export interface ModelFileRecord {
  path: string;
  sha256: string;
  bytes: number;
}

/** A registered model version. Immutable once registered. */
export interface ModelVersionRecord {
  version: string;
  createdAt: Date;
  /** Who registered it: a user name, "worker", "cli" or "bootstrap". */
  createdBy: string;
  /** How it was produced: "cli", "worker", "bootstrap", ... */
  source: string;
  /** The version it was retrained from, if any (lineage). */
  parentVersion: string | null;
  dataFingerprint: string | null;
  /** The contents of metrics.json in the model directory. */
  metrics: Record<string, unknown>;
  /** The contents of model-card.json in the model directory. */
  modelCard: Record<string, unknown>;
  /** Every file of the model directory with its checksum (model.json included). */
  files: ModelFileRecord[];
  /** Store key prefix holding the files: models/<version>/ */
  artifactPrefix: string;
  /** Where it came from (trigger, job, data, evaluation split, parameters, code); null for older versions. */
  lineage: Record<string, unknown> | null;
  /** The promotion gate's decision, for versions trained by a retraining job. */
  gate: Record<string, unknown> | null;
  /** The key of the job that registered it (a retried job finds its version by it); null without one. */
  idempotencyKey: string | null;
}

export interface ProductionState {
  /** The version serving production traffic, or null before the first promotion. */
  version: string | null;
  /** Increases by one at every move of the pointer; replicas compare it to notice a change. */
  revision: number;
  updatedAt: Date | null;
}

export type PromotionAction = 'promote' | 'rollback';

export interface PromotionAuditRecord {
  id: number;
  at: Date;
  actor: string;
  action: PromotionAction;
  fromVersion: string | null;
  toVersion: string;
  reason: string | null;
}

export interface PromotionResult {
  production: ProductionState;
  audit: PromotionAuditRecord;
}

export interface RegisterOptions {
  createdBy: string;
  source: string;
  parentVersion?: string | null;
  lineage?: Record<string, unknown>;
  gate?: Record<string, unknown>;
  /** At most one version per key: a registration with a key already registered returns that version. */
  idempotencyKey?: string | null;
}

export interface PromoteOptions {
  actor: string;
  reason?: string | null;
  /**
   * Runs after the version is known to exist and before the pointer moves: the caller proves the version loads
   * (downloads, verifies and loads it). When it throws, the pointer does not move and the error propagates.
   */
  check?: (record: ModelVersionRecord) => Promise<void>;
}

/** A rollback takes the same options as a promotion; check() receives the version being rolled back to. */
export type RollbackOptions = PromoteOptions;
