import {
  BadRequestException,
  Body,
  ForbiddenException,
  Controller,
  Get,
  HttpCode,
  Param,
  Post,
  Query,
  Res,
} from '@nestjs/common';
import { ApiAcceptedResponse, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { RetrainingJobs } from '@app/retraining';
import { CurrentPrincipal, Roles } from '../auth/auth.decorators';
import { ApiErrors, ERROR_MEANING } from '../common/api-errors.decorator';
import type { Principal } from '../auth/principal.types';
import { RetrainingJobDto, RetrainingRequestDto, RetrainingRequestResultDto } from './retraining.dto';
import { UuidParamPipe } from '../common/uuid-param.pipe';

/** Both answers of a request name the job they recorded. */
const JOB_LOCATION = {
  Location: {
    description: 'The job: /v1/retraining-jobs/{id}',
    required: true,
    schema: { type: 'string' as const, format: 'uri-reference' },
  },
};

@ApiTags('retraining')
@Roles('ml-engineer')
@Controller('v1/retraining-jobs')
export class RetrainingController {
  constructor(private readonly jobs: RetrainingJobs) {}

  @Post()
  @HttpCode(202)
  @ApiOperation({
    summary: 'Ask for a retraining',
    description:
      'Trains a new version in the worker, scores it against production with the promotion gate, and promotes it ' +
      'when it passes. At most one job runs and one waits: while one waits, a request returns that job ' +
      '(deduplicated: true). Within RETRAINING_COOLDOWN_MINUTES after the last retraining finished, the request ' +
      'is recorded as a skipped job and answered 200 with cooledDown: true, unless an admin sends force: true.',
  })
  @ApiAcceptedResponse({ type: RetrainingRequestResultDto, headers: JOB_LOCATION })
  @ApiOkResponse({
    type: RetrainingRequestResultDto,
    headers: JOB_LOCATION,
    description: 'Within the cooldown: the request recorded as a skipped job (cooledDown: true)',
  })
  @ApiErrors({
    400: ERROR_MEANING.badBody,
    403: 'force is for admins',
    413: ERROR_MEANING.bodyTooLarge,
    503: 'The queue (Redis) or the database is unreachable: no job was recorded; Retry-After says when to try again',
  })
  async request(
    @Body() body: RetrainingRequestDto,
    @CurrentPrincipal() principal: Principal,
    @Res({ passthrough: true }) res: Response,
  ): Promise<RetrainingRequestResultDto> {
    if (body.force && !principal.roles.includes('admin')) {
      throw new ForbiddenException('only an admin may force a retraining within the cooldown');
    }
    const { job, deduplicated, cooledDown } = await this.jobs.request({
      reason: body.reason,
      trigger: `admin:${principal.name}`,
      params: { ...body.params },
      force: body.force,
    });
    res.setHeader('Location', `/v1/retraining-jobs/${job.id}`);
    // Nothing was accepted for processing: the skipped job is the answer.
    if (cooledDown) res.status(200);
    return { ...job, deduplicated, cooledDown };
  }

  @Get()
  @ApiOperation({ summary: 'Recent retraining jobs, newest first' })
  @ApiQuery({ name: 'limit', required: false, type: Number, description: '1 to 500, default 50' })
  @ApiOkResponse({ type: [RetrainingJobDto] })
  @ApiErrors({ 400: 'limit is not a whole number from 1 to 500', 503: ERROR_MEANING.unavailable })
  list(@Query('limit') limit?: string): Promise<RetrainingJobDto[]> {
    const n = limit === undefined ? 50 : Number(limit);
    if (!Number.isInteger(n) || n < 1 || n > 500) {
      throw new BadRequestException('limit must be a whole number from 1 to 500');
    }
    return this.jobs.list(n);
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Cancel a queued or running retraining job',
    description:
      'A queued job leaves the queue (it absorbs no more requests); a running one stops its training process ' +
      'within about a second, whichever process runs it (the worker, or the API in embedded mode). The job ends ' +
      'in state cancelled, with who cancelled it and when (cancelledBy, cancelledAt), registers no version and ' +
      'is not retried. A job that already trained and is registering or promoting its version runs to its end.',
  })
  @ApiOkResponse({ type: RetrainingJobDto, description: 'The job, now cancelled' })
  @ApiErrors({
    400: 'id is not a UUID',
    404: 'No retraining job has this id',
    409: 'The job has finished, or is registering or promoting its version: too late to cancel',
    503: ERROR_MEANING.unavailable,
  })
  cancel(
    @Param('id', new UuidParamPipe('id must be a retraining job id (a UUID)'))
    id: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<RetrainingJobDto> {
    return this.jobs.cancel(id, `admin:${principal.name}`);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One retraining job: state, phase, progress, attempts, error, version and gate' })
  @ApiOkResponse({ type: RetrainingJobDto })
  @ApiErrors({
    400: 'id is not a UUID',
    404: 'No retraining job has this id',
    503: ERROR_MEANING.unavailable,
  })
  get(
    @Param('id', new UuidParamPipe('id must be a retraining job id (a UUID)'))
    id: string,
  ): Promise<RetrainingJobDto> {
    return this.jobs.get(id);
  }
}
