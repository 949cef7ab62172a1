import { Module } from '@nestjs/common';
import { RetrainingWorkerModule } from '../retraining/retraining-worker.module';
import { HealthController } from './health.controller';

@Module({ imports: [RetrainingWorkerModule], controllers: [HealthController] })
export class HealthModule {}
