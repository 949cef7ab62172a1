import { Column, CreateDateColumn, Entity, PrimaryColumn, Unique } from 'typeorm';

export type ModelVersionStatus = 'registering' | 'ready';

export interface ModelFileColumn {
  path: string;
  sha256: string;
  bytes: number;
}

/** A registered model version; immutable once its status is ready. */
@Entity({ name: 'model_versions' })
@Unique('UQ_model_versions_sequence', ['sequence'])
@Unique('UQ_model_versions_idempotency_key', ['idempotencyKey'])
export class ModelVersionEntity {
  /** "v<sequence>": what people type in commands and URLs. */
  @PrimaryColumn({ type: 'varchar', length: 64 })
  version: string;

  /** The numeric part of the version; unique, so two processes allocating the same number cannot both insert it. */
  @Column({ type: 'integer' })
  sequence: number;

  @CreateDateColumn({ name: 'created_at' })
  createdAt: Date;

  @Column({ name: 'created_by', type: 'varchar', length: 128 })
  createdBy: string;

  @Column({ type: 'varchar', length: 32 })
  source: string;

  @Column({ name: 'parent_version', type: 'varchar', length: 64, nullable: true })
  parentVersion: string | null;

  @Column({ name: 'data_fingerprint', type: 'varchar', length: 128, nullable: true })
  dataFingerprint: string | null;

  @Column({ type: 'simple-json' })
  metrics: Record<string, unknown>;

  @Column({ name: 'model_card', type: 'simple-json' })
  modelCard: Record<string, unknown>;

  @Column({ type: 'simple-json' })
  files: ModelFileColumn[];

  @Column({ name: 'artifact_prefix', type: 'varchar', length: 255 })
  artifactPrefix: string;

  @Column({ type: 'varchar', length: 16 })
  status: ModelVersionStatus;

  /** Where the version came from: trigger, job, parent, data, evaluation split, parameters, code, durations. */
  @Column({ type: 'simple-json', nullable: true })
  lineage: Record<string, unknown> | null;

  /** The promotion gate's decision when the version was trained by a retraining job, with both models' figures. */
  @Column({ type: 'simple-json', nullable: true })
  gate: Record<string, unknown> | null;

  /**
   * The key of the job that registered it; set in the same statement that makes the version ready, so that only
   * a finished registration holds it and a retried job finds it.
   */
  @Column({ name: 'idempotency_key', type: 'varchar', length: 128, nullable: true })
  idempotencyKey: string | null;
}
