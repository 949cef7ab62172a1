import { Logger } from '@nestjs/common';
import type Redis from 'ioredis';
import { closeRedisClient, createRedisClient, inRedisNamespace } from '@app/redis';
import type { ProductionAnnouncer } from './promotion.workflow';

/** The Redis channel on which whoever moves a deployment's production pointer announces it. */
export function productionChannel(namespace: string): string {
  return inRedisNamespace(namespace, 'model-registry:production-changed');
}

/** What is published on the production channel. */
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
  private readonly channel: string;

  /** `namespace`: the deployment's QUEUE_PREFIX; only its own replicas hear the announcement. */
  constructor(url: string, namespace: string) {
    this.channel = productionChannel(namespace);
    this.publisher = createRedisClient(url, 'production-announcer');
    // A lost connection shows as a failed publish, logged there; the client reconnects by itself.
    this.publisher.on('error', () => undefined);
  }

  async announce(version: string, revision: number): Promise<void> {
    const change: ProductionChange = { version, revision };
    try {
      await this.publisher.publish(this.channel, JSON.stringify(change));
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
