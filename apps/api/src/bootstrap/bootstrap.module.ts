import { Module } from '@nestjs/common';
import { ServingModule } from '../serving/serving.module';
import { ModelBootstrapService } from './model-bootstrap.service';

@Module({
  imports: [ServingModule],
  providers: [ModelBootstrapService],
  exports: [ModelBootstrapService],
})
export class BootstrapModule {}
