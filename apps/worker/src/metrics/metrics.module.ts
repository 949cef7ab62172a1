import { Module } from '@nestjs/common';
import { MetricsRegistryModule } from '@app/metrics';
import { MetricsController } from './metrics.controller';

@Module({ imports: [MetricsRegistryModule], controllers: [MetricsController] })
export class MetricsModule {}
