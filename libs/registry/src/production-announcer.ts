import { Logger } from '@nestjs/common';
import type Redis from 'ioredis';
import { closeRedisClient, createRedisClient } from '@app/redis';
import type { ProductionAnnouncer } from './promotion.workflow';

/** Redis channel on which whoever moves the production pointer announces it. */
export const PRODUCTION_CHANNEL = 'model-registry:production-changed';

/** What is published on PRODUCTION_CHANNEL. */
export interface ProductionChange {
  version: string;
  revision: number;
}

/**
 * Publishes production moves on Redis, from any process (API, worker, CLI). Pub/sub delivers at most once and the
 * registry stays the truth, so a failed publish is logged, not thrown: replicas also poll and catch up.
 */
export class RedisProductionAnnouncer implements ProductionAnnouncer {
  private readonly logger = new Logger('ProductionAnnouncer');
  private readonly publisher: Redis;

  constructor(url: string) {
    this.publisher = createRedisClient(url, 'production-announcer');
    // A lost connection shows as a failed publish, logged there; the client reconnects by itself.
    this.publisher.on('error', () => undefined);
  }

  async announce(version: string, revision: number): Promise<void> {
    const change: ProductionChange = { version, revision };
    try {
      await this.publisher.publish(PRODUCTION_CHANNEL, JSON.stringify(change));
    } catch (error) {
      this.logger.warn(
        `could not announce ${version} on Redis (replicas will poll): ${(error as Error).message}`,
      );
    }
  }

  close(): Promise<void> {
    return closeRedisClient(this.publisher);
  }
}
