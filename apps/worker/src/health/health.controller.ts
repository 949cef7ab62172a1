import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { RetrainingProcessor } from '../retraining/retraining.processor';

type Check = { status: 'up' | 'down'; detail?: string };

const CHECK_TIMEOUT_MS = 2000;

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

  /** Ready: the database answers and the processor is taking jobs from Redis. */
  @Get('ready')
  async ready(): Promise<{ status: 'ok'; checks: Record<string, Check> }> {
    const checks: Record<string, Check> = {
      database: await this.database(),
      queue: this.processor.running ? { status: 'up' } : { status: 'down', detail: 'not taking jobs' },
    };
    if (Object.values(checks).some((c) => c.status === 'down')) {
      throw new ServiceUnavailableException({ status: 'unavailable', checks });
    }
    return { status: 'ok', checks };
  }

  private async database(): Promise<Check> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer in ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
    });
    try {
      await Promise.race([this.dataSource.query('SELECT 1'), timeout]);
      return { status: 'up' };
    } catch (error) {
      return { status: 'down', detail: (error as Error).message };
    } finally {
      clearTimeout(timer);
    }
  }
}
