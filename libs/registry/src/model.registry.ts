import { mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DataSource, QueryDeepPartialEntity } from 'typeorm';
import {
  isUniqueViolation,
  ModelVersionEntity,
  ProductionPointerEntity,
  PromotionAuditEntity,
  runInTransaction,
} from '@app/database';
import { sha256Sliced } from '@app/checksum';
import { ArtifactNotFoundError, type ArtifactStore } from '@app/storage';
import { readModelDirectory, readVerifiedFile } from './model-directory.reader';
import {
  AlreadyInProductionError,
  CorruptArtifactError,
  ModelVersionNotFoundError,
  NothingToRollBackError,
  RegistrationError,
} from './registry.errors';
import type {
  ModelFileRecord,
  ModelVersionRecord,
  ProductionState,
  PromoteOptions,
  PromotionAction,
  PromotionAuditRecord,
  PromotionResult,
  RegisterOptions,
  RollbackOptions,
} from './registry.types';

/** Each failed attempt means another writer got there first; this many in a row means something else is wrong. */
const MAX_ATTEMPTS = 20;

/**
 * Model versions (immutable files in the artifact store plus a row each), the production pointer and its audit
 * log. Safe to use from several processes at once: version numbers come from a unique column, and the pointer only
 * moves by compare-and-set on its revision, in the same transaction as its audit row.
 */
export class ModelRegistry {
  constructor(
    private readonly dataSource: DataSource,
    private readonly store: ArtifactStore,
  ) {}

  /**
   * Verifies a model directory written by `npm run train`, allocates the next version and uploads every file to
   * models/<version>/. A registration that fails half-way leaves neither objects nor a row behind.
   *
   * With an idempotency key, the version registered under that key is returned if there is one, and of two
   * registrations with the same key only one becomes a version: the key is set in the statement that makes the
   * version ready, so its unique index lets the first to finish win; the other removes what it wrote and returns
   * the winner. An attempt that died half-way never holds the key.
   */
  async register(dir: string, options: RegisterOptions): Promise<ModelVersionRecord> {
    const key = options.idempotencyKey ?? null;
    if (key !== null && (key.length === 0 || key.length > 128)) {
      throw new RegistrationError(dir, 'an idempotency key must be 1 to 128 characters long');
    }
    if (key !== null) {
      const existing = await this.findByIdempotencyKey(key);
      if (existing) return existing;
    }
    const directory = await readModelDirectory(dir);
    const parentVersion = options.parentVersion ?? null;
    if (parentVersion !== null && !(await this.findReady(parentVersion))) {
      throw new RegistrationError(dir, `parent version ${parentVersion} is not registered`);
    }
    const fingerprint = directory.modelCard.dataFingerprint;
    const row = await this.allocate({
      createdAt: new Date(),
      createdBy: options.createdBy,
      source: options.source,
      parentVersion,
      dataFingerprint: typeof fingerprint === 'string' ? fingerprint : null,
      metrics: directory.metrics,
      modelCard: directory.modelCard,
      files: directory.files,
      status: 'registering',
      lineage: options.lineage ?? null,
      gate: options.gate ?? null,
      idempotencyKey: null,
    });
    try {
      for (const file of directory.files) {
        await this.store.put(`${row.artifactPrefix}${file.path}`, await readVerifiedFile(directory, file));
      }
      await this.versions().update(
        { version: row.version, status: 'registering' },
        { status: 'ready', idempotencyKey: key },
      );
    } catch (error) {
      await this.abandon(row);
      const winner = key !== null && isUniqueViolation(error) ? await this.findByIdempotencyKey(key) : null;
      if (winner) return winner;
      throw error;
    }
    return this.get(row.version);
  }

  /** The ready version registered under an idempotency key, if any. */
  async findByIdempotencyKey(key: string): Promise<ModelVersionRecord | null> {
    const row = await this.versions().findOneBy({ idempotencyKey: key, status: 'ready' });
    return row ? toVersionRecord(row) : null;
  }

  /** Whether the production pointer ever moved to a version (it may have moved on since). */
  async wasPromoted(version: string): Promise<boolean> {
    return this.dataSource.getRepository(PromotionAuditEntity).existsBy({ toVersion: version });
  }

  /** Ready versions, newest first. */
  async list(): Promise<ModelVersionRecord[]> {
    const rows = await this.versions().find({ where: { status: 'ready' }, order: { sequence: 'DESC' } });
    return rows.map(toVersionRecord);
  }

  async get(version: string): Promise<ModelVersionRecord> {
    const row = await this.findReady(version);
    if (!row) throw new ModelVersionNotFoundError(version);
    return toVersionRecord(row);
  }

  async production(): Promise<ProductionState> {
    return toProductionState(await this.pointer());
  }

  /** Promotions and rollbacks, newest first. */
  async history(limit = 100): Promise<PromotionAuditRecord[]> {
    const rows = await this.dataSource
      .getRepository(PromotionAuditEntity)
      .find({ order: { id: 'DESC' }, take: limit });
    return rows.map(toAuditRecord);
  }

  /**
   * Makes a version the production model. options.check runs first (the caller proves the version loads); the
   * pointer moves and the audit row is written in one transaction only if it succeeds.
   */
  async promote(version: string, options: PromoteOptions): Promise<PromotionResult> {
    const record = await this.get(version);
    let checked = false;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const pointer = await this.pointer();
      if (pointer.version === version) throw new AlreadyInProductionError(version);
      if (!checked) {
        await options.check?.(record);
        checked = true;
      }
      const result = await this.move(pointer, version, 'promote', options);
      if (result) return result;
    }
    throw contention();
  }

  /**
   * Goes back to the version that was in production before the current one. The production history is the stack
   * the audit log builds (a promotion pushes, a rollback pops), so v1, v2, v3 then two rollbacks give v2, then v1.
   */
  async rollback(options: RollbackOptions): Promise<PromotionResult> {
    const checked = new Set<string>();
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      // The pointer is read before the log: a move in between changes the revision and the move below retries.
      const pointer = await this.pointer();
      const stack = await this.productionStack();
      if (stack.length < 2) throw new NothingToRollBackError(pointer.version);
      const target = stack[stack.length - 2];
      if (!checked.has(target)) {
        await options.check?.(await this.get(target));
        checked.add(target);
      }
      const result = await this.move(pointer, target, 'rollback', options);
      if (result) return result;
    }
    throw contention();
  }

  /**
   * Downloads every file of a version into <cacheRoot>/<version>/ and returns that directory. Files are verified
   * against the registry's checksums; a directory already there is verified too, and downloaded again if it fails.
   * The directory appears whole or not at all.
   */
  async fetch(version: string, cacheRoot: string): Promise<string> {
    const record = await this.get(version);
    const target = join(cacheRoot, version);
    if (await isDirectory(target)) {
      if (await matchesRecord(target, record.files)) return target;
      await rm(target, { recursive: true, force: true });
    }
    await mkdir(cacheRoot, { recursive: true });
    const temp = await mkdtemp(join(cacheRoot, `.${version}-`));
    try {
      for (const file of record.files) {
        const bytes = await this.download(record, file);
        const path = join(temp, file.path);
        await mkdir(dirname(path), { recursive: true });
        await writeFile(path, bytes);
      }
      try {
        await rename(temp, target);
      } catch (error) {
        // Another fetch of the same version won the rename; its copy is as good as ours once verified.
        if (!(await isDirectory(target)) || !(await matchesRecord(target, record.files))) throw error;
      }
    } finally {
      await rm(temp, { recursive: true, force: true });
    }
    return target;
  }

  private versions() {
    return this.dataSource.getRepository(ModelVersionEntity);
  }

  private findReady(version: string): Promise<ModelVersionEntity | null> {
    return this.versions().findOneBy({ version, status: 'ready' });
  }

  private async pointer(): Promise<ProductionPointerEntity> {
    return this.dataSource
      .getRepository(ProductionPointerEntity)
      .findOneByOrFail({ id: ProductionPointerEntity.ID });
  }

  /**
   * Inserts the row of the next version. Two writers may pick the same number; the unique constraint lets one
   * win and the other tries the following number.
   */
  private async allocate(
    fields: Omit<ModelVersionEntity, 'version' | 'sequence' | 'artifactPrefix'>,
  ): Promise<ModelVersionEntity> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const latest = await this.versions()
        .createQueryBuilder('model')
        .select('MAX(model.sequence)', 'sequence')
        .getRawOne<{ sequence: number | string | null }>();
      const sequence = Number(latest?.sequence ?? 0) + 1;
      const version = `v${sequence}`;
      const row: ModelVersionEntity = { ...fields, version, sequence, artifactPrefix: `models/${version}/` };
      try {
        await this.versions().insert(row as QueryDeepPartialEntity<ModelVersionEntity>);
        return row;
      } catch (error) {
        if (!isUniqueViolation(error)) throw error;
      }
    }
    throw contention();
  }

  /** Removes what a failed registration wrote: the objects first, so that a number is reused only once empty. */
  private async abandon(row: ModelVersionEntity): Promise<void> {
    try {
      await this.store.deletePrefix(row.artifactPrefix);
      await this.versions().delete({ version: row.version, status: 'registering' });
    } catch {
      // The registration's own error is the one to report. A row left in "registering" is never listed, served
      // or reused, so its number cannot point at stray objects.
    }
  }

  /** Replays the audit log: the versions production went through that a rollback can return to, oldest first. */
  private async productionStack(): Promise<string[]> {
    const log = await this.dataSource.getRepository(PromotionAuditEntity).find({ order: { id: 'ASC' } });
    const stack: string[] = [];
    for (const entry of log) {
      if (entry.action === 'promote') stack.push(entry.toVersion);
      else stack.pop();
    }
    return stack;
  }

  /** Moves the pointer from the state read earlier; null when another writer moved it in between. */
  private move(
    from: ProductionPointerEntity,
    to: string,
    action: PromotionAction,
    options: PromoteOptions,
  ): Promise<PromotionResult | null> {
    return runInTransaction(this.dataSource, async (manager) => {
      const at = new Date();
      const moved = await manager.update(
        ProductionPointerEntity,
        { id: ProductionPointerEntity.ID, revision: from.revision },
        { version: to, revision: from.revision + 1, updatedAt: at },
      );
      if (moved.affected !== 1) return null;
      const audit = await manager.save(PromotionAuditEntity, {
        at,
        actor: options.actor,
        action,
        fromVersion: from.version,
        toVersion: to,
        reason: options.reason ?? null,
      });
      return {
        production: { version: to, revision: from.revision + 1, updatedAt: at },
        audit: toAuditRecord(audit),
      };
    });
  }

  private async download(record: ModelVersionRecord, file: ModelFileRecord): Promise<Buffer> {
    let bytes: Buffer;
    try {
      bytes = await this.store.get(`${record.artifactPrefix}${file.path}`);
    } catch (error) {
      if (error instanceof ArtifactNotFoundError) {
        throw new CorruptArtifactError(record.version, file.path, `is missing from ${this.store.location}`);
      }
      throw error;
    }
    const actual = await sha256Sliced(bytes);
    if (actual !== file.sha256) {
      throw new CorruptArtifactError(
        record.version,
        file.path,
        `does not match its checksum (expected ${file.sha256}, found ${actual})`,
      );
    }
    return bytes;
  }
}

function contention(): Error {
  return new Error(
    `The model registry is being changed by other writers too often: gave up after ${MAX_ATTEMPTS} attempts, try again`,
  );
}

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then(
    (stats) => stats.isDirectory(),
    () => false,
  );
}

async function matchesRecord(dir: string, files: ModelFileRecord[]): Promise<boolean> {
  for (const file of files) {
    const bytes = await readFile(join(dir, file.path)).catch(() => null);
    if (!bytes || bytes.byteLength !== file.bytes || (await sha256Sliced(bytes)) !== file.sha256)
      return false;
  }
  return true;
}

function toVersionRecord(row: ModelVersionEntity): ModelVersionRecord {
  return {
    version: row.version,
    createdAt: row.createdAt,
    createdBy: row.createdBy,
    source: row.source,
    parentVersion: row.parentVersion,
    dataFingerprint: row.dataFingerprint,
    metrics: row.metrics,
    modelCard: row.modelCard,
    files: row.files,
    artifactPrefix: row.artifactPrefix,
    lineage: row.lineage ?? null,
    gate: row.gate ?? null,
    idempotencyKey: row.idempotencyKey,
  };
}

function toProductionState(row: ProductionPointerEntity): ProductionState {
  return { version: row.version, revision: row.revision, updatedAt: row.updatedAt };
}

function toAuditRecord(row: PromotionAuditEntity): PromotionAuditRecord {
  return {
    id: row.id,
    at: row.at,
    actor: row.actor,
    action: row.action,
    fromVersion: row.fromVersion,
    toVersion: row.toVersion,
    reason: row.reason,
  };
}
