import { Injectable, Logger, OnApplicationBootstrap, OnModuleInit } from '@nestjs/common';
import { resolve } from 'node:path';
import { AppConfig, ConfigValidationError } from '@app/config';
import { DatasetError, demoCatalogueDir, findRakutenLayout } from '@app/ml';
import { ModelRegistry } from '@app/registry';
import { RetrainingJobs } from '@app/retraining';

/**
 * The quick start: on a registry with no model at all, ask for a first one as a retraining job like any other (on
 * DATA_DIR, else on the demo catalogue), which the worker (or, embedded, this process in a child process) trains,
 * registers and promotes, so that a fresh clone answers predictions without any setup. Readiness stays false
 * until the model is loaded; liveness answers throughout. Replicas that start together on an empty registry may
 * each ask: the job already waiting absorbs the request, and a job that finds a version already made is skipped.
 */
@Injectable()
export class ModelBootstrapService implements OnModuleInit, OnApplicationBootstrap {
  private readonly logger = new Logger(ModelBootstrapService.name);
  private running?: Promise<void>;

  constructor(
    private readonly registry: ModelRegistry,
    private readonly jobs: RetrainingJobs,
    private readonly config: AppConfig,
  ) {}

  /** Resolves when the bootstrap (if any) has finished; for tests and scripts. */
  get done(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  /**
   * A DATA_DIR that cannot be trained on is a configuration error: the process stops before it listens, with one
   * message, instead of staying up and never becoming ready. Only the folder's listing is read here.
   */
  onModuleInit(): void {
    const configured = this.config.env.DATA_DIR;
    if (!configured) return;
    try {
      findRakutenLayout(resolve(configured));
    } catch (error) {
      if (!(error instanceof DatasetError)) throw error;
      throw new ConfigValidationError([`DATA_DIR (${resolve(configured)}): ${error.problem}`]);
    }
  }

  onApplicationBootstrap(): void {
    if (this.config.env.BOOTSTRAP_MODEL === 'off') return;
    this.running = this.bootstrap().catch((error: Error) =>
      this.logger.error(`could not ask for a first model: ${error.message}`),
    );
  }

  private async bootstrap(): Promise<void> {
    if ((await this.registry.list()).length > 0) return;
    const demo = !this.config.env.DATA_DIR;
    if (demo && !demoCatalogueDir()) {
      this.logger.warn('the registry is empty and there is no data to train on: set DATA_DIR');
      return;
    }
    const source = demo ? 'the demo catalogue (invented listings)' : 'DATA_DIR';
    const { job, deduplicated } = await this.jobs.request({
      reason: `first model: the registry is empty; trained on ${source}`,
      trigger: 'bootstrap',
      params: { ...(demo && { dataset: 'demo' as const }), onlyIfEmpty: true },
      // An empty registry serves nothing: no cooldown holds its first model back.
      force: true,
    });
    // The job's progress (each model and epoch) goes to the log of the process that trains.
    this.logger.log(
      `the registry is empty: ${deduplicated ? 'a waiting' : 'a'} retraining job (${job.id}) trains a first ` +
        `model on ${source}`,
    );
  }
}
