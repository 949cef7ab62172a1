import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { ModelRegistry, PromotionWorkflow, type ModelVersionRecord } from '@app/registry';
import { trainModel } from './model.training';
import type {
  GateDecision,
  TrainingLineage,
  TrainingOutcome,
  TrainingProgressListener,
  TrainingRequest,
} from './training.types';

/**
 * Train → save → register → (gate →) promote, the one way every transport makes a model version (the CLI, the
 * API's boot-time bootstrap, the queue worker). The files are in the artifact store before the version's row
 * says it is ready, so a run that dies half-way leaves no version behind; promotion goes through the promotion
 * workflow, so every replica swaps as after `POST /v1/models/:version/promote`.
 */
export class TrainingWorkflow {
  constructor(
    private readonly registry: ModelRegistry,
    private readonly promotion: PromotionWorkflow,
    /** Parent of the work directories of runs that keep no model directory of their own. */
    private readonly workRoot: string,
  ) {}

  async run(request: TrainingRequest): Promise<TrainingOutcome> {
    const progress = request.progress ?? (() => undefined);
    const { lineage } = request;
    const key = request.idempotencyKey;
    const earlier = key === undefined ? null : await this.registry.findByIdempotencyKey(key);
    if (earlier) {
      progress({
        phase: 'registering',
        message: `${earlier.version} was registered for ${key}: not training again`,
      });
      const outcome: TrainingOutcome = {
        record: earlier,
        metrics: earlier.metrics,
        components: components(earlier),
        reused: true,
      };
      // A retry of a run that got as far as promoting has nothing left to do; promoting again could undo a
      // promotion made since.
      const promoted = (await this.registry.history(1000)).some((move) => move.toVersion === earlier.version);
      return promoted ? outcome : this.decide(request, outcome, progress);
    }
    // A parent that is not registered would fail the registration after hours of training: fail now instead.
    if (lineage.parentVersion) await this.registry.get(lineage.parentVersion);
    const outDir = request.outDir ?? (await this.workDir());
    try {
      const trainer =
        request.trainer ??
        ((dir, listener) =>
          trainModel({
            data: request.data,
            options: request.options,
            outDir: dir,
            lineage,
            progress: listener,
            featureStore: request.featureStore,
          }));
      const trained = await trainer(outDir, progress);
      progress({ phase: 'registering', message: `registering ${outDir}` });
      const record = await this.registry.register(outDir, {
        createdBy: lineage.createdBy,
        source: lineage.source,
        parentVersion: lineage.parentVersion ?? null,
        idempotencyKey: key ?? null,
        lineage: { ...lineageRecord(lineage), ...trained.lineage },
        ...(trained.gate && { gate: trained.gate }),
      });
      progress({
        phase: 'registering',
        message: `registered as ${record.version} under ${record.artifactPrefix}`,
      });
      return this.decide(
        request,
        {
          record,
          metrics: trained.metrics,
          components: trained.components,
          ...(request.outDir ? { modelDir: request.outDir } : {}),
          reused: false,
        },
        progress,
      );
    } finally {
      if (!request.outDir) await rm(outDir, { recursive: true, force: true });
    }
  }

  /** The steps after registration: the gate, when there is one, then promotion, when asked for. */
  private async decide(
    request: TrainingRequest,
    outcome: TrainingOutcome,
    progress: TrainingProgressListener,
  ): Promise<TrainingOutcome> {
    if (!request.promote) return outcome;
    const { record } = outcome;
    const { gate, ...promotion } = request.promote;
    // A decision the trainer made (stored on the version, so a retry finds it) stands; else the request's gate.
    const made = record.gate as (GateDecision & Record<string, unknown>) | null;
    if (made) outcome.gate = made;
    else if (gate) outcome.gate = await gate(record);
    if (outcome.gate) {
      const verdict = outcome.gate.promote ? 'promote' : 'keep as a candidate';
      progress({ phase: 'gating', message: `gate: ${verdict} (${outcome.gate.reasons.join('; ')})` });
      if (!outcome.gate.promote) return outcome;
    }
    outcome.promotion = await this.promotion.promote(record.version, promotion);
    progress({
      phase: 'promoting',
      message: `${record.version} is now in production (revision ${outcome.promotion.production.revision})`,
    });
    return outcome;
  }

  /**
   * Removes the work directories that runs of dead processes left behind (a process killed with SIGKILL cannot
   * remove its own). Each directory names its host and process id; those of live processes sharing the folder
   * (an API and a worker on one machine) stay. Every run does it first; a process calls it with `atStart` before
   * it trains at all, when a directory with its own id is a previous life's (a restarted container reuses ids).
   */
  async removeLeftovers(atStart = false): Promise<string[]> {
    const root = resolve(this.workRoot);
    const names = await readdir(root).catch(() => [] as string[]);
    const removed: string[] = [];
    for (const name of names) {
      const match = WORK_DIR_NAME.exec(name);
      if (!match) continue;
      const [, host, pid] = match;
      const owner = Number(pid);
      const mine = owner === process.pid;
      const orphan = host === undefined || (host === hostname() && (mine ? atStart : !processAlive(owner)));
      if (!orphan) continue;
      await rm(join(root, name), { recursive: true, force: true });
      removed.push(name);
    }
    return removed;
  }

  private async workDir(): Promise<string> {
    const root = resolve(this.workRoot);
    await mkdir(root, { recursive: true });
    await this.removeLeftovers();
    return mkdtemp(join(root, `training-${hostname()}-${process.pid}-`));
  }
}

/** `training-<host>-<pid>-XXXXXX`, or `training-XXXXXX` as runs named them before they carried their owner. */
const WORK_DIR_NAME = /^training-(?:(.+)-(\d+)-)?[A-Za-z0-9]{6}$/;

/** Whether process `pid` runs on this host. */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The lineage every version records, whoever trained it. */
function lineageRecord(lineage: TrainingLineage): Record<string, unknown> {
  return {
    trigger: lineage.trigger,
    jobId: lineage.jobId ?? null,
    parentVersion: lineage.parentVersion ?? null,
  };
}

/** The parts of a registered model (text, image), from its files. */
function components(record: ModelVersionRecord): string[] {
  return [
    ...new Set(
      record.files
        .map((file) => file.path.split('/'))
        .filter((parts) => parts.length > 1)
        .map((parts) => parts[0]),
    ),
  ];
}
