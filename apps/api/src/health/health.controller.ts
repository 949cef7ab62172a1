import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { Public, PublicUnlessClosed } from '../auth/auth.decorators';
import { ApiErrors, ERROR_MEANING } from '../common/api-errors.decorator';
import { LivenessDto, ReadinessDto } from './readiness.dto';
import { ReadinessService } from './readiness.service';

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(private readonly readiness: ReadinessService) {}

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
    summary: 'Ready for traffic: it can serve predictions (database reachable, a model loaded)',
    description:
      'Redis is not needed to serve predictions: without it the replica stays ready and answers ' +
      '`degraded`, with `checks.redis` saying what it does without it.',
  })
  @ApiOkResponse({ type: ReadinessDto, description: 'Ready: every check up (ok), or Redis lost (degraded)' })
  @ApiServiceUnavailableResponse({ type: ReadinessDto, description: 'A check is down; `checks` says which' })
  async ready(): Promise<ReadinessDto> {
    const readiness = await this.readiness.check();
    if (readiness.status === 'unavailable') throw new ServiceUnavailableException(readiness);
    return readiness;
  }
}
