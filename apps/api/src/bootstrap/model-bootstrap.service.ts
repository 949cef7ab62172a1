import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { AppConfig } from '@app/config';
import {
  DEFAULT_TRAIN_OPTIONS,
  demoCatalogueDir,
  loadTrainingData,
  trainProductClassifier,
  validationMetrics,
} from '@app/ml';
import { ModelRegistry } from '@app/registry';
import { ProductionWatcher } from '../serving/production-watcher.service';

/**
 * The embedded quick start: on a registry with no model at all, train a first one (on DATA_DIR, else on the
 * demo catalogue), register it and promote it, so that a fresh clone answers predictions without any setup.
 * Runs after the server is listening; readiness stays false until the model is loaded.
 */
@Injectable()
export class ModelBootstrapService implements OnApplicationBootstrap {
  private readonly logger = new Logger(ModelBootstrapService.name);
  private running?: Promise<void>;

  constructor(
    private readonly registry: ModelRegistry,
    private readonly watcher: ProductionWatcher,
    private readonly config: AppConfig,
  ) {}

  /** Resolves when the bootstrap (if any) has finished; for tests and scripts. */
  get done(): Promise<void> {
    return this.running ?? Promise.resolve();
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
    const log = (line: string) => this.logger.debug(line);
    const { data } = loadTrainingData(dataDir);
    const { classifier, card } = await trainProductClassifier(data, DEFAULT_TRAIN_OPTIONS, log);
    await mkdir(resolve(this.config.env.VAR_DIR), { recursive: true });
    const workDir = await mkdtemp(join(resolve(this.config.env.VAR_DIR), 'bootstrap-'));
    try {
      await classifier.save(workDir, {
        metrics: validationMetrics(card),
        'model-card': { ...card, dataDir },
      });
      classifier.dispose();
      const record = await this.registry.register(workDir, { createdBy: 'bootstrap', source: 'bootstrap' });
      const { production } = await this.registry.promote(record.version, {
        actor: 'bootstrap',
        reason: `first model, trained at boot on ${source}`,
      });
      this.logger.log(`model ${record.version} trained, registered and promoted`);
      await this.watcher.announce(record.version, production.revision);
    } finally {
      await rm(workDir, { recursive: true, force: true });
    }
  }
}
