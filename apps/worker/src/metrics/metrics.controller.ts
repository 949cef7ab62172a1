import { Controller, Get, Header } from '@nestjs/common';
import { Registry } from 'prom-client';
import { PROMETHEUS_CONTENT_TYPE } from '@app/metrics';

/** The worker's metrics for Prometheus, on WORKER_PORT beside the probes. */
@Controller('metrics')
export class MetricsController {
  constructor(private readonly registry: Registry) {}

  @Get()
  @Header('Content-Type', PROMETHEUS_CONTENT_TYPE)
  scrape(): Promise<string> {
    return this.registry.metrics();
  }
}
