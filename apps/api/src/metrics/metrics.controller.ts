import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { PROMETHEUS_CONTENT_TYPE } from '@app/metrics';
import { PublicUnlessClosed } from '../auth/auth.decorators';
import { MetricsService } from './metrics.service';

@ApiExcludeController()
@PublicUnlessClosed('PUBLIC_METRICS')
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get()
  @Header('Content-Type', PROMETHEUS_CONTENT_TYPE)
  scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
