import { Injectable, Logger, OnApplicationBootstrap, OnModuleInit } from '@nestjs/common';
import { resolve } from 'node:path';
import { AppConfig, ConfigValidationError } from '@app/config';
import { DatasetError, DEFAULT_TRAIN_OPTIONS, demoCatalogueDir, findRakutenLayout } from '@app/ml';
import { ModelRegistry } from '@app/registry';
import { directoryDataSource, TrainingWorkflow } from '@app/training';

/**
 * The embedded quick start: on a registry with no model at all, train a first one (on DATA_DIR, else on the
 * demo catalogue), register it and promote it, so that a fresh clone answers predictions without any setup.
 * Runs after the server is listening; readiness stays false until the model is loaded.
 */
@Injectable()
export class ModelBootstrapService implements OnModuleInit, OnApplicationBootstrap {
  private readonly logger = new Logger(ModelBootstrapService.name);
  private running?: Promise<void>;

  constructor(
    private readonly registry: ModelRegistry,
    private readonly training: TrainingWorkflow,
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
      this.logger.error(`could not train a first model: ${error.message}`),
    );
  }

  private async bootstrap(): Promise<void> {
    if ((await this.registry.list()).length > 0) return;
    const dataDir = this.config.env.DATA_DIR ? resolve(this.config.env.DATA_DIR) : demoCatalogueDir();
    if (!dataDir) {
      this.logger.warn('the registry is empty and there is no data to train on: set DATA_DIR');
      return;
    }
    const source = this.config.env.DATA_DIR ? 'DATA_DIR' : 'the demo catalogue (invented listings)';
    this.logger.log(`the registry is empty: training a first model on ${source} at ${dataDir}`);
    const { record } = await this.training.run({
      data: directoryDataSource(dataDir),
      options: DEFAULT_TRAIN_OPTIONS,
      lineage: { trigger: 'bootstrap', source: 'bootstrap', createdBy: 'bootstrap' },
      promote: { actor: 'bootstrap', reason: `first model, trained at boot on ${source}` },
      // Minutes of training at boot: the operator sees each model and epoch go by, not a silent wait.
      progress: (event) => this.logger.log(event.message),
    });
    this.logger.log(`model ${record.version} trained, registered and promoted`);
  }
}
