import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type Redis from 'ioredis';
import { AppConfig } from '@app/config';
import { closeRedisClient, createRedisClient } from '@app/redis';
import { productionChannel, RedisProductionAnnouncer, type ProductionAnnouncer } from '@app/registry';
import { ModelServingService } from './model-serving.service';

/**
 * Keeps this replica on the production version. With Redis, a promotion on any replica (or by the worker) is
 * announced on the deployment's channel (inside QUEUE_PREFIX) and every replica of the deployment reacts at once;
 * pub/sub delivers at most once, so the registry is also polled as a safety net. Without Redis, polling alone
 * notices the change.
 */
@Injectable()
export class ProductionWatcher implements ProductionAnnouncer, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ProductionWatcher.name);
  private timer?: NodeJS.Timeout;
  private subscriber?: Redis;
  private publisher?: RedisProductionAnnouncer;
  private running?: Promise<void>;
  private followUp?: Promise<void>;
  private lastProblem?: string;

  constructor(
    private readonly serving: ModelServingService,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    const { REDIS_URL, MODEL_POLL_INTERVAL_MS, QUEUE_PREFIX } = this.config.env;
    if (REDIS_URL) {
      this.publisher = new RedisProductionAnnouncer(REDIS_URL, QUEUE_PREFIX);
      // A subscriber sends no commands of its own after SUBSCRIBE: it keeps reconnecting for as long as it takes.
      this.subscriber = createRedisClient(REDIS_URL, 'production-watcher', { maxRetriesPerRequest: null });
      this.subscriber.on('message', () => void this.sync());
      this.subscriber.on('ready', () => void this.sync());
      this.subscriber.on('error', (error) => this.report(`Redis subscriber: ${error.message}`));
      this.subscriber
        .subscribe(productionChannel(QUEUE_PREFIX))
        .catch((error: Error) => this.report(error.message));
    }
    void this.sync();
    this.timer = setInterval(() => void this.sync(), MODEL_POLL_INTERVAL_MS);
    this.timer.unref();
  }

  /** Tells every replica (this one included) that the production pointer moved. */
  async announce(version: string, revision: number): Promise<void> {
    await this.publisher?.announce(version, revision);
    await this.sync();
  }

  /**
   * One registry check at a time. A call made while a check runs gets one more check after it, so that an
   * announcement arriving mid-check is never answered by a check that read the pointer too early.
   */
  sync(): Promise<void> {
    if (!this.running) {
      this.running = this.check().finally(() => {
        this.running = undefined;
      });
      return this.running;
    }
    this.followUp ??= this.running.then(() => {
      this.followUp = undefined;
      return this.sync();
    });
    return this.followUp;
  }

  /** Whether the Redis subscription is up; undefined when Redis is not configured. */
  get redisReady(): boolean | undefined {
    return this.subscriber ? this.subscriber.status === 'ready' : undefined;
  }

  private async check(): Promise<void> {
    try {
      await this.serving.syncWithRegistry();
      this.lastProblem = undefined;
    } catch (error) {
      this.report(`cannot follow the production model: ${(error as Error).message}`);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all([this.subscriber && closeRedisClient(this.subscriber), this.publisher?.close()]);
  }

  private report(problem: string): void {
    if (problem === this.lastProblem) return;
    this.lastProblem = problem;
    this.logger.warn(problem);
  }
}
