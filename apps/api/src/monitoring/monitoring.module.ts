import { Module } from '@nestjs/common';
import { ServingModule } from '../serving/serving.module';
import { LiveMonitoringService } from './live-monitoring.service';
import { MonitoringController } from './monitoring.controller';

@Module({
  imports: [ServingModule],
  controllers: [MonitoringController],
  providers: [LiveMonitoringService],
})
export class MonitoringModule {}
