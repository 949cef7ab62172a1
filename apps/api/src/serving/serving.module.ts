import { Module } from '@nestjs/common';
import { ModelRegistry, PromotionWorkflow, RegistryModule } from '@app/registry';
import { ModelServingService } from './model-serving.service';
import { ProductionWatcher } from './production-watcher.service';

@Module({
  imports: [RegistryModule],
  providers: [
    ModelServingService,
    ProductionWatcher,
    {
      // On an API replica a promotion loads its target here first, and every replica (this one too) swaps.
      provide: PromotionWorkflow,
      inject: [ModelRegistry, ModelServingService, ProductionWatcher],
      useFactory: (registry: ModelRegistry, serving: ModelServingService, watcher: ProductionWatcher) =>
        new PromotionWorkflow(
          registry,
          {
            prepare: async (record) => void (await serving.prepare(record.version)),
            discard: (version) => serving.discard(version),
          },
          watcher,
        ),
    },
  ],
  exports: [ModelServingService, ProductionWatcher, PromotionWorkflow, RegistryModule],
})
export class ServingModule {}
