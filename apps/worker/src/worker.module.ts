import { Module } from '@nestjs/common';
import { ConfigModule } from '@app/config';
import { HealthModule } from './health/health.module';
import { MetricsModule } from './metrics/metrics.module';

@Module({ imports: [ConfigModule, HealthModule, MetricsModule] })
export class WorkerModule {}
