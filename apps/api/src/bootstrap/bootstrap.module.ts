import { Module } from '@nestjs/common';
import { RetrainingModule } from '@app/retraining';
import { ServingModule } from '../serving/serving.module';
import { ModelBootstrapService } from './model-bootstrap.service';

@Module({
  imports: [ServingModule, RetrainingModule],
  providers: [ModelBootstrapService],
  exports: [ModelBootstrapService],
})
export class BootstrapModule {}
