import { Module } from '@nestjs/common';
import { ConfigModule } from '@app/config';
import { DatabaseModule } from '@app/database';
import { StorageModule } from '@app/storage';
import { HealthModule } from './health/health.module';
import { RetrainingWorkerModule } from './retraining/retraining-worker.module';
import { MetricsModule } from './metrics/metrics.module';

@Module({
  imports: [ConfigModule, DatabaseModule, StorageModule, RetrainingWorkerModule, HealthModule, MetricsModule],
})
export class WorkerModule {}
