import { Module } from '@nestjs/common';
import { RegistryModule } from '@app/registry';
import { ModelServingService } from './model-serving.service';
import { ProductionWatcher } from './production-watcher.service';

@Module({
  imports: [RegistryModule],
  providers: [ModelServingService, ProductionWatcher],
  exports: [ModelServingService, ProductionWatcher, RegistryModule],
})
export class ServingModule {}
