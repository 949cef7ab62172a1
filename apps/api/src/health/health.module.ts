import { Module } from '@nestjs/common';
import { ServingModule } from '../serving/serving.module';
import { HealthController } from './health.controller';
import { ReadinessService } from './readiness.service';
import { ShutdownCoordinator } from './shutdown.coordinator';

@Module({
  imports: [ServingModule],
  controllers: [HealthController],
  providers: [ShutdownCoordinator, ReadinessService],
  exports: [ShutdownCoordinator],
})
export class HealthModule {}
