import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { AppConfig } from '@app/config';
import { ModelServingService } from './model-serving.service';

/** Redis channel on which whoever moves the production pointer announces it. */
export const PRODUCTION_CHANNEL = 'model-registry:production-changed';

/**
 * Keeps this replica on the production version. With Redis, a promotion on any replica (or by the worker) is
 * announced on a channel and every replica reacts at once; pub/sub delivers at most once, so the registry is
 * also polled as a safety net. Without Redis, polling alone notices the change.
 */
@Injectable()
export class ProductionWatcher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ProductionWatcher.name);
  private timer?: NodeJS.Timeout;
  private subscriber?: Redis;
  private publisher?: Redis;
  private running?: Promise<void>;
  private followUp?: Promise<void>;
  private lastProblem?: string;

  constructor(
    private readonly serving: ModelServingService,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    const { REDIS_URL, MODEL_POLL_INTERVAL_MS } = this.config.env;
    if (REDIS_URL) {
      this.publisher = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
      this.subscriber = new Redis(REDIS_URL, { lazyConnect: true });
      this.subscriber.on('message', () => void this.sync());
      this.subscriber.on('ready', () => void this.sync());
      this.subscriber.on('error', (error) => this.report(`Redis subscriber: ${error.message}`));
      this.subscriber.subscribe(PRODUCTION_CHANNEL).catch((error: Error) => this.report(error.message));
    }
    void this.sync();
    this.timer = setInterval(() => void this.sync(), MODEL_POLL_INTERVAL_MS);
    this.timer.unref();
  }

  /** Tells every replica (this one included) that the production pointer moved. */
  async announce(version: string, revision: number): Promise<void> {
    const message = JSON.stringify({ version, revision });
    if (this.publisher) {
      try {
        await this.publisher.publish(PRODUCTION_CHANNEL, message);
      } catch (error) {
        this.report(
          `could not announce ${version} on Redis (replicas will poll): ${(error as Error).message}`,
        );
      }
    }
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
    await Promise.all(
      [this.subscriber?.quit(), this.publisher?.quit()].map((p) => p?.catch(() => undefined)),
    );
  }

  private report(problem: string): void {
    if (problem === this.lastProblem) return;
    this.lastProblem = problem;
    this.logger.warn(problem);
  }
}
