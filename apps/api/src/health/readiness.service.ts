import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Gauge, Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { checkDatabase } from '@app/database';
import { ModelServingService } from '../serving/model-serving.service';
import { ProductionWatcher } from '../serving/production.watcher';
import type { ReadinessCheck, ReadinessStatus } from './readiness.dto';
import { ShutdownCoordinator } from './shutdown.coordinator';

/** What a replica without Redis still does, and what it does not, for the readiness body. */
const WITHOUT_REDIS =
  'not connected: predictions and labels are served; promotions reach this replica by polling ' +
  '(MODEL_POLL_INTERVAL_MS), rate limits are not enforced, and retraining requests and alerts answer 503 ' +
  'until it is back';

/**
 * Whether this replica can take traffic, from what it can do: it is ready while it can serve predictions (a model
 * loaded and scoring, the database answering, not shutting down). Redis carries none of that: without it the replica
 * stays ready and reports itself degraded, in the readiness body and in `dependency_up`, so that a Redis outage
 * does not take every replica out of the load balancer at once.
 */
@Injectable()
export class ReadinessService {
  private readonly dependencyUp = new Gauge({
    name: 'dependency_up',
    help:
      'Whether this replica reaches a dependency: 1 yes, 0 no (database; redis when REDIS_URL is set). ' +
      'Without Redis a replica stays ready, degraded',
    labelNames: ['dependency'] as const,
    registers: [],
    collect: () => this.collectDependencies(),
  });

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly serving: ModelServingService,
    private readonly watcher: ProductionWatcher,
    private readonly shutdown: ShutdownCoordinator,
    registry: Registry,
  ) {
    registry.registerMetric(this.dependencyUp);
  }

  async check(): Promise<{ status: ReadinessStatus; checks: Record<string, ReadinessCheck> }> {
    const checks: Record<string, ReadinessCheck> = {
      database: await checkDatabase(this.dataSource),
      model: this.model(),
    };
    if (this.shutdown.draining) checks.process = { status: 'down', detail: 'shutting down' };
    const redis = this.watcher.redisReady;
    if (redis !== undefined)
      checks.redis = redis ? { status: 'up' } : { status: 'degraded', detail: WITHOUT_REDIS };
    const statuses = Object.values(checks).map((check) => check.status);
    const status = statuses.includes('down')
      ? 'unavailable'
      : statuses.includes('degraded')
        ? 'degraded'
        : 'ok';
    return { status, checks };
  }

  private async collectDependencies(): Promise<void> {
    const database = await checkDatabase(this.dataSource);
    this.dependencyUp.set({ dependency: 'database' }, database.status === 'up' ? 1 : 0);
    const redis = this.watcher.redisReady;
    if (redis !== undefined) this.dependencyUp.set({ dependency: 'redis' }, redis ? 1 : 0);
  }

  private model(): ReadinessCheck {
    const model = this.serving.current;
    if (!model) return { status: 'down', detail: 'no model loaded yet' };
    if (!model.classifier.canScoreText) {
      return { status: 'down', detail: `${model.version}: every text scoring thread is down (restarting)` };
    }
    return { status: 'up', detail: model.version };
  }
}
