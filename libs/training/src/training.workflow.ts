import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { ModelRegistry, PromotionWorkflow, type ModelVersionRecord } from '@app/registry';
import { trainModel } from './model-training.step';
import { trainInChildProcess } from './training-process.runner';
import type {
  GateDecision,
  ModelTrainingInput,
  TrainedModel,
  TrainingLineage,
  TrainingOutcome,
  TrainingProgressListener,
  TrainingRequest,
} from './training.types';

/**
 * Train → evaluate → gate → save (the training step, in this process or a child) → register → promote, the one way
 * every transport makes a model version (the CLI, a retraining job in the worker or the embedded API). The files are
 * in the artifact store before the version's row says it is ready, so a run that dies half-way leaves no version
 * behind; promotion goes through the promotion workflow, so every replica swaps as after
 * `POST /v1/models/:version/promote`.
 */
export class TrainingWorkflow {
  constructor(
    private readonly registry: ModelRegistry,
    private readonly promotion: PromotionWorkflow,
    /**
     * Parent of the work directories of runs that keep no model directory of their own, and of the cache of the
     * production models a gate scores (VAR_DIR).
     */
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
      return (await this.registry.wasPromoted(earlier.version))
        ? outcome
        : this.decide(request, outcome, progress);
    }
    // A parent that is not registered would fail the registration after hours of training: fail now instead.
    if (lineage.parentVersion) await this.registry.get(lineage.parentVersion);
    // The run's own folder: a run killed with SIGKILL leaves it where removeLeftovers finds it.
    const runDir = await this.workDir();
    const outDir = request.outDir ?? join(runDir, 'model');
    try {
      const trained = await this.train(request, runDir, outDir, progress);
      await request.beforeRegistering?.();
      progress({ phase: 'registering', message: `registering ${outDir}` });
      const record = await this.registry.register(outDir, {
        createdBy: lineage.createdBy,
        source: lineage.source,
        parentVersion: lineage.parentVersion ?? null,
        idempotencyKey: key ?? null,
        lineage: { ...lineageRecord(lineage), ...trained.lineage },
        ...(trained.gate && { gate: { ...trained.gate } }),
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
      await rm(runDir, { recursive: true, force: true });
    }
  }

  /**
   * The training step, where the request says, with the production model fetched for the gate to score and the
   * labelled predictions written to the run's folder.
   */
  private async train(
    request: TrainingRequest,
    runDir: string,
    outDir: string,
    progress: TrainingProgressListener,
  ): Promise<TrainedModel> {
    const { gate, lineage, isolation, feedback } = request;
    const parent = lineage.parentVersion;
    const feedbackFile = join(runDir, 'feedback-export.json');
    if (feedback) await writeFile(feedbackFile, JSON.stringify(await feedback.labels()));
    const input: ModelTrainingInput = {
      dataDir: request.dataDir,
      ...(request.imagesDir !== undefined && { imagesDir: request.imagesDir }),
      options: request.options,
      outDir,
      ...(request.maxRows !== undefined && { maxRows: request.maxRows }),
      ...(feedback && { feedback: { file: feedbackFile, recent: feedback.recent } }),
      ...(request.featureStore && { featureStore: request.featureStore }),
      lineage,
      ...(gate && {
        gate: {
          rules: gate,
          ...(parent && {
            productionDir: await this.registry.fetch(parent, resolve(this.workRoot, 'model-cache')),
          }),
        },
      }),
    };
    if (isolation?.process === 'child') {
      return trainInChildProcess(input, { progress, signal: isolation.signal });
    }
    return trainModel(input, progress);
  }

  /** The steps after registration: the gate's decision, stored on the version, then promotion when asked for. */
  private async decide(
    request: TrainingRequest,
    outcome: TrainingOutcome,
    progress: TrainingProgressListener,
  ): Promise<TrainingOutcome> {
    if (!request.promote) return outcome;
    const { record } = outcome;
    const gate = record.gate as GateDecision | null;
    if (gate) {
      outcome.gate = gate;
      const verdict = gate.promote ? 'promote' : 'keep as a candidate';
      // Still registering as far as a job is concerned: the version exists, too late to cancel.
      progress({ phase: 'registering', message: `gate: ${verdict} (${gate.reasons.join('; ')})` });
      if (!gate.promote) return outcome;
    }
    outcome.promotion = await this.promotion.promote(record.version, request.promote);
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
    ...(lineage.reason != null && { reason: lineage.reason }),
    ...(lineage.params && { params: lineage.params }),
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
