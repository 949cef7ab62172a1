import { Module } from '@nestjs/common';
import { AppConfig } from '@app/config';
import { DriftMonitor } from '@app/drift';
import { BackboneThreadPool, ImageDecoder } from '@app/ml';
import { ModelRegistry, PromotionWorkflow, RegistryModule } from '@app/registry';
import { ModelServingService } from './model-serving.service';
import { ProductionWatcher } from './production.watcher';

@Module({
  imports: [RegistryModule],
  providers: [
    ModelServingService,
    ProductionWatcher,
    {
      // One drift watch per replica: the versions it serves, each with the window of its own predictions.
      provide: DriftMonitor,
      inject: [AppConfig],
      useFactory: (config: AppConfig) => new DriftMonitor(config.drift, config.env.DRIFT_MONITORING),
    },
    {
      // One decoder for every model version loaded, so that the concurrency bound holds during a swap too.
      provide: ImageDecoder,
      inject: [AppConfig],
      useFactory: (config: AppConfig) =>
        new ImageDecoder(
          { maxPixels: config.env.MAX_IMAGE_PIXELS, maxSide: config.env.MAX_IMAGE_SIDE },
          config.env.IMAGE_DECODE_CONCURRENCY,
        ),
    },
    {
      // One pool of backbone threads for every model version loaded: a swap neither restarts nor doubles them.
      provide: BackboneThreadPool,
      inject: [AppConfig],
      useFactory: (config: AppConfig) => new BackboneThreadPool(config.env.IMAGE_FEATURE_THREADS),
    },
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
  exports: [
    ModelServingService,
    DriftMonitor,
    ProductionWatcher,
    PromotionWorkflow,
    RegistryModule,
    ImageDecoder,
  ],
})
export class ServingModule {}
