import { ApiProperty } from '@nestjs/swagger';

export class LivenessDto {
  @ApiProperty({ enum: ['ok'] }) status: 'ok';
}

/**
 * One dependency as readiness sees it. up: working; degraded: lost, but the replica serves predictions without it
 * (Redis); down: the replica cannot serve.
 */
export type ReadinessCheck = { status: 'up' | 'degraded' | 'down'; detail?: string };

/** ok: every check up; degraded: ready, with a check degraded; unavailable: a check down (503). */
export type ReadinessStatus = 'ok' | 'degraded' | 'unavailable';

/** GET /health/ready, answered 200 when the replica can serve predictions and 503 with the same shape otherwise. */
export class ReadinessDto {
  @ApiProperty({
    enum: ['ok', 'degraded', 'unavailable'],
    description:
      'ok: every check up (200); degraded: ready, but a dependency it can serve without is lost (200); ' +
      'unavailable: it cannot serve predictions (503)',
  })
  status: ReadinessStatus;

  @ApiProperty({
    description:
      'One entry per dependency (database, model, redis when configured, process while stopping). A database, ' +
      'model or process down makes the replica unavailable; Redis lost makes it degraded, still ready',
    type: 'object',
    additionalProperties: {
      type: 'object',
      required: ['status'],
      properties: {
        status: { type: 'string', enum: ['up', 'degraded', 'down'] },
        detail: { type: 'string' },
      },
    },
    example: {
      database: { status: 'up' },
      model: { status: 'up', detail: 'v4' },
      redis: { status: 'degraded', detail: 'not connected: predictions and labels are served; …' },
    },
  })
  checks: Record<string, ReadinessCheck>;
}
