import { Body, Controller, HttpCode, PayloadTooLargeException, Post } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AppConfig } from '@app/config';
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
  constructor(
    private readonly triggers: AlertTriggers,
    private readonly config: AppConfig,
  ) {}

  @Post('alertmanager')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Alertmanager webhook: firing retraining alerts ask for a retraining',
    description:
      'For a service token with the alertmanager role (ALERTMANAGER_WEBHOOK_TOKEN). Each firing alert named in ' +
      'RETRAINING_ALERTS asks for one retraining (trigger alert:<fingerprint>@<startsAt>), once: repeats and ' +
      'resends of the same alert are answered duplicate. Within RETRAINING_COOLDOWN_MINUTES after the last ' +
      'retraining the request is recorded as a skipped job. Resolved alerts are recorded only. Only records and ' +
      'enqueues: the training runs in the worker. A notification is validated whole before any alert is ' +
      'recorded: a 400 records none of its alerts.',
  })
  @ApiBody({ type: AlertmanagerNotificationDto, examples: ALERTMANAGER_EXAMPLES })
  @ApiOkResponse({ type: AlertmanagerResultDto })
  @ApiErrors({
    400: `${ERROR_MEANING.badBody}; Alertmanager does not retry a 400`,
    413: "More alerts than WEBHOOK_ALERT_LIMIT (the receiver's max_alerts should match it), or a body larger than MAX_BODY_BYTES",
    503: 'The queue (Redis) or the database is unreachable: nothing was recorded, and Alertmanager retries',
  })
  async notify(@Body() body: AlertmanagerNotificationDto): Promise<AlertmanagerResultDto> {
    const limit = this.config.env.WEBHOOK_ALERT_LIMIT;
    if (body.alerts.length > limit) {
      throw new PayloadTooLargeException(
        `A notification carries at most ${limit} alerts (WEBHOOK_ALERT_LIMIT); this one has ` +
          `${body.alerts.length}: set max_alerts: ${limit} on the Alertmanager webhook receiver`,
      );
    }
    return { alerts: await this.triggers.handle(body.alerts) };
  }
}
