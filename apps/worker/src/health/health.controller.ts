import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { checkDatabase, type HealthCheck } from '@app/database';
import { RetrainingProcessor } from '../retraining/retraining.processor';

/** The worker serves no product traffic; this port exists for orchestrator probes (and /metrics). */
@Controller('health')
export class HealthController {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly processor: RetrainingProcessor,
  ) {}

  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Ready: the database answers, and the processor is taking jobs and reaches Redis. */
  @Get('ready')
  async ready(): Promise<{ status: 'ok'; checks: Record<string, HealthCheck> }> {
    const checks: Record<string, HealthCheck> = {
      database: await checkDatabase(this.dataSource),
      queue: await this.processor.queueHealth(),
    };
    if (Object.values(checks).some((c) => c.status === 'down')) {
      throw new ServiceUnavailableException({ status: 'unavailable', checks });
    }
    return { status: 'ok', checks };
  }
}
