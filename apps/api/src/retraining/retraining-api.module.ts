import { Module } from '@nestjs/common';
import { JobHandlersModule } from '@app/queue';
import { RetrainingRunnerModule } from '@app/retraining';
import { ServingModule } from '../serving/serving.module';
import { EmbeddedRetrainingService } from './embedded-retraining.service';
import { RetrainingController } from './retraining.controller';

@Module({
  // In embedded mode this process runs the jobs, promoting through its own serving (load, then swap everywhere).
  imports: [RetrainingRunnerModule.register({ promotion: [ServingModule] }), JobHandlersModule],
  controllers: [RetrainingController],
  providers: [EmbeddedRetrainingService],
})
export class RetrainingApiModule {}
