import { Module } from '@nestjs/common';
import { ServingModule } from '../serving/serving.module';
import { HealthController } from './health.controller';
import { ShutdownCoordinator } from './shutdown.coordinator';

@Module({
  imports: [ServingModule],
  controllers: [HealthController],
  providers: [ShutdownCoordinator],
  exports: [ShutdownCoordinator],
})
export class HealthModule {}
