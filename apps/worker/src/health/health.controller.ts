import { Controller, Get } from '@nestjs/common';

/** The worker serves no product traffic; this port exists for orchestrator probes only. */
@Controller('health')
export class HealthController {
  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }
}
