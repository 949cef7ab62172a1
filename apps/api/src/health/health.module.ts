import { Module } from '@nestjs/common';
import { ServingModule } from '../serving/serving.module';
import { HealthController } from './health.controller';

@Module({ imports: [ServingModule], controllers: [HealthController] })
export class HealthModule {}
