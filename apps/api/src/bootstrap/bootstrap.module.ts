import { Module } from '@nestjs/common';
import { AppConfig } from '@app/config';
import { ModelRegistry, PromotionWorkflow } from '@app/registry';
import { TrainingWorkflow } from '@app/training';
import { ServingModule } from '../serving/serving.module';
import { ModelBootstrapService } from './model-bootstrap.service';

@Module({
  imports: [ServingModule],
  providers: [
    {
      provide: TrainingWorkflow,
      inject: [ModelRegistry, PromotionWorkflow, AppConfig],
      useFactory: (registry: ModelRegistry, promotion: PromotionWorkflow, config: AppConfig) =>
        new TrainingWorkflow(registry, promotion, config.env.VAR_DIR),
    },
    ModelBootstrapService,
  ],
  exports: [ModelBootstrapService],
})
export class BootstrapModule {}
