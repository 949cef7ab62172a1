import { ApiProperty } from '@nestjs/swagger';

export class LivenessDto {
  @ApiProperty({ enum: ['ok'] }) status: 'ok';
}

/** GET /health/ready, answered 200 when every check is up and 503 with the same shape otherwise. */
export class ReadinessDto {
  @ApiProperty({ enum: ['ok', 'unavailable'] })
  status: 'ok' | 'unavailable';

  @ApiProperty({
    description: 'One entry per dependency (database, model, redis when configured, process while stopping)',
    type: 'object',
    additionalProperties: {
      type: 'object',
      required: ['status'],
      properties: { status: { type: 'string', enum: ['up', 'down'] }, detail: { type: 'string' } },
    },
    example: { database: { status: 'up' }, model: { status: 'down', detail: 'no model loaded yet' } },
  })
  checks: Record<string, { status: 'up' | 'down'; detail?: string }>;
}
