import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { checkDatabase, type HealthCheck } from '@app/database';
import { Public, PublicUnlessClosed } from '../auth/auth.decorators';
import { ModelServingService } from '../serving/model-serving.service';
import { ProductionWatcher } from '../serving/production-watcher.service';
import { ApiErrors, ERROR_MEANING } from '../common/api-errors.decorator';
import { LivenessDto, ReadinessDto } from './readiness.dto';
import { ShutdownCoordinator } from './shutdown.coordinator';

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly serving: ModelServingService,
    private readonly watcher: ProductionWatcher,
    private readonly shutdown: ShutdownCoordinator,
  ) {}

  @Get('live')
  // Always open (it says only "ok"): container health checks and liveness probes carry no token.
  @Public()
  @ApiOperation({ summary: 'The process is up' })
  @ApiOkResponse({ type: LivenessDto })
  @ApiErrors({ 429: ERROR_MEANING.rateLimited })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @PublicUnlessClosed('PUBLIC_HEALTH')
  @ApiOperation({
    summary: 'Ready for traffic: database reachable, Redis subscribed (when configured), a model loaded',
  })
  @ApiOkResponse({ type: ReadinessDto, description: 'Every check is up' })
  @ApiServiceUnavailableResponse({ type: ReadinessDto, description: 'A check is down; `checks` says which' })
  async ready(): Promise<{ status: 'ok'; checks: Record<string, HealthCheck> }> {
    const checks: Record<string, HealthCheck> = {
      database: await checkDatabase(this.dataSource),
      model: this.model(),
    };
    if (this.shutdown.draining) checks.process = { status: 'down', detail: 'shutting down' };
    const redis = this.watcher.redisReady;
    if (redis !== undefined)
      checks.redis = redis ? { status: 'up' } : { status: 'down', detail: 'not connected' };
    if (Object.values(checks).some((c) => c.status === 'down')) {
      throw new ServiceUnavailableException({ status: 'unavailable', checks });
    }
    return { status: 'ok', checks };
  }

  private model(): HealthCheck {
    const model = this.serving.current;
    if (!model) return { status: 'down', detail: 'no model loaded yet' };
    if (!model.classifier.canScoreText) {
      return { status: 'down', detail: `${model.version}: every text scoring thread is down (restarting)` };
    }
    return { status: 'up', detail: model.version };
  }
}
