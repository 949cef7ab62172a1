import { Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '@app/config';
import {
  ACCEPT_REGISTERED,
  ModelRegistry,
  NO_ANNOUNCEMENT,
  PromotionWorkflow,
  RedisProductionAnnouncer,
  RegistryModule,
  type ProductionAnnouncer,
} from '@app/registry';

const ANNOUNCER = Symbol('CLI_ANNOUNCER');

/** Closes the announcer's Redis connection when the command's context closes. */
@Injectable()
class AnnouncerCloser implements OnApplicationShutdown {
  announcer?: RedisProductionAnnouncer;

  async onApplicationShutdown(): Promise<void> {
    await this.announcer?.close();
  }
}

/**
 * How `npm run train -- --promote` promotes: the command serves nothing, so the registered version needs no
 * preparation; the move is announced on REDIS_URL when set, so that running replicas swap at once, else they see it
 * at their next poll.
 */
@Module({
  imports: [RegistryModule],
  providers: [
    AnnouncerCloser,
    {
      provide: ANNOUNCER,
      inject: [AppConfig, AnnouncerCloser],
      useFactory: (config: AppConfig, closer: AnnouncerCloser): ProductionAnnouncer => {
        if (!config.env.REDIS_URL) return NO_ANNOUNCEMENT;
        closer.announcer = new RedisProductionAnnouncer(config.env.REDIS_URL, config.env.QUEUE_PREFIX);
        return closer.announcer;
      },
    },
    {
      provide: PromotionWorkflow,
      inject: [ModelRegistry, ANNOUNCER],
      useFactory: (registry: ModelRegistry, announcer: ProductionAnnouncer) =>
        new PromotionWorkflow(registry, ACCEPT_REGISTERED, announcer),
    },
  ],
  exports: [PromotionWorkflow],
})
export class CliPromotionModule {}
