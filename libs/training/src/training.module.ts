import { Module, type DynamicModule, type ModuleMetadata } from '@nestjs/common';
import { AppConfig } from '@app/config';
import { ModelRegistry, PromotionWorkflow, RegistryModule } from '@app/registry';
import { TrainingWorkflow } from './training.workflow';

export interface TrainingModuleOptions {
  /**
   * The app's adapter: modules that provide the PromotionWorkflow this process promotes with, that is how it
   * announces a new production model (and, on an API replica, loads it first).
   */
  promotion: NonNullable<ModuleMetadata['imports']>;
}

/** Provides the TrainingWorkflow over the configured registry, with its work directories under VAR_DIR. */
@Module({})
export class TrainingModule {
  static register(options: TrainingModuleOptions): DynamicModule {
    return {
      module: TrainingModule,
      imports: [RegistryModule, ...options.promotion],
      providers: [
        {
          provide: TrainingWorkflow,
          inject: [ModelRegistry, PromotionWorkflow, AppConfig],
          useFactory: (registry: ModelRegistry, promotion: PromotionWorkflow, config: AppConfig) =>
            new TrainingWorkflow(registry, promotion, config.env.VAR_DIR),
        },
      ],
      exports: [TrainingWorkflow],
    };
  }
}
