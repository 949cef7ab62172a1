import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AlertTriggers } from '@app/retraining';
import { Roles } from '../auth/auth.decorators';
import { ApiErrors, ERROR_MEANING } from '../common/api-errors.decorator';
import {
  ALERTMANAGER_EXAMPLES,
  AlertmanagerNotificationDto,
  AlertmanagerResultDto,
} from './alertmanager.dto';

@ApiTags('webhooks')
@Roles('alertmanager')
@Controller('v1/webhooks')
export class AlertmanagerController {
  constructor(private readonly triggers: AlertTriggers) {}

  @Post('alertmanager')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Alertmanager webhook: firing retraining alerts ask for a retraining',
    description:
      'For a service token with the alertmanager role (ALERTMANAGER_WEBHOOK_TOKEN). Each firing alert named in ' +
      'RETRAINING_ALERTS asks for one retraining (trigger alert:<fingerprint>@<startsAt>), once: repeats and ' +
      'resends of the same alert are answered duplicate. Within RETRAINING_COOLDOWN_MINUTES after the last ' +
      'retraining the request is recorded as a skipped job. Resolved alerts are recorded only. Only records and ' +
      'enqueues: the training runs in the worker.',
  })
  @ApiBody({ type: AlertmanagerNotificationDto, examples: ALERTMANAGER_EXAMPLES })
  @ApiOkResponse({ type: AlertmanagerResultDto })
  @ApiErrors({
    400: `${ERROR_MEANING.badBody}; Alertmanager does not retry a 400`,
    413: ERROR_MEANING.bodyTooLarge,
    503: 'The queue (Redis) or the database is unreachable: nothing was recorded, and Alertmanager retries',
  })
  async notify(@Body() body: AlertmanagerNotificationDto): Promise<AlertmanagerResultDto> {
    return { alerts: await this.triggers.handle(body.alerts) };
  }
}
