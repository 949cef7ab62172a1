import { Module } from '@nestjs/common';
import { RetrainingModule } from '@app/retraining';
import { ServingModule } from '../serving/serving.module';
import { EmbeddedRetrainingService } from './embedded-retraining.service';
import { RetrainingController } from './retraining.controller';

@Module({
  imports: [RetrainingModule, ServingModule],
  controllers: [RetrainingController],
  providers: [EmbeddedRetrainingService],
})
export class RetrainingApiModule {}
