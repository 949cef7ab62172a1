import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppConfig } from '@app/config';
import { RETRAINING_QUEUE_PORT, type ProcessingQueue, type RetrainingQueue } from '@app/queue';
import { ModelRegistry } from '@app/registry';
import { retrainingSettings, RetrainingJobs, RetrainingMetrics, RetrainingRunner } from '@app/retraining';
import { ARTIFACT_STORE, type ArtifactStore } from '@app/storage';
import { TrainingWorkflow } from '@app/training';

/**
 * The embedded mode (no REDIS_URL): this process runs the retraining jobs itself, one at a time, each training in a
 * child process so that the API keeps answering. With Redis, the worker process runs them and this does nothing.
 */
@Injectable()
export class EmbeddedRetrainingService implements OnApplicationBootstrap {
  constructor(
    @Inject(RETRAINING_QUEUE_PORT) private readonly queue: RetrainingQueue,
    private readonly jobs: RetrainingJobs,
    private readonly registry: ModelRegistry,
    private readonly training: TrainingWorkflow,
    private readonly metrics: RetrainingMetrics,
    @Inject(ARTIFACT_STORE) private readonly store: ArtifactStore,
    private readonly config: AppConfig,
    private readonly dataSource: DataSource,
  ) {}

  onApplicationBootstrap(): void {
    if (this.queue.driver !== 'in-process') return;
    const runner = new RetrainingRunner(
      this.jobs,
      this.registry,
      this.training,
      retrainingSettings(this.config, this.store, this.dataSource),
      this.metrics,
    );
    (this.queue as ProcessingQueue).work((job) => runner.run(job));
  }
}
