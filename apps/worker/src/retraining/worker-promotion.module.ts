import { Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '@app/config';
import {
  ACCEPT_REGISTERED,
  ModelRegistry,
  PromotionWorkflow,
  RedisProductionAnnouncer,
  RegistryModule,
} from '@app/registry';

/** Closes the announcer's Redis connection at shutdown. */
@Injectable()
class AnnouncerCloser implements OnApplicationShutdown {
  constructor(private readonly announcer: RedisProductionAnnouncer) {}

  onApplicationShutdown(): Promise<void> {
    return this.announcer.close();
  }
}

/**
 * How the worker promotes: it serves no traffic, so a registered version needs no preparation here; the API
 * replicas load it when the announcement on Redis reaches them.
 */
@Module({
  imports: [RegistryModule],
  providers: [
    {
      provide: RedisProductionAnnouncer,
      inject: [AppConfig],
      useFactory: (config: AppConfig) =>
        new RedisProductionAnnouncer(config.env.REDIS_URL!, config.env.QUEUE_PREFIX),
    },
    AnnouncerCloser,
    {
      provide: PromotionWorkflow,
      inject: [ModelRegistry, RedisProductionAnnouncer],
      useFactory: (registry: ModelRegistry, announcer: RedisProductionAnnouncer) =>
        new PromotionWorkflow(registry, ACCEPT_REGISTERED, announcer),
    },
  ],
  exports: [PromotionWorkflow],
})
export class WorkerPromotionModule {}
