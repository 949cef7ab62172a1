import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsArray,
  IsIn,
  IsInt,
  IsISO8601,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  ValidateNested,
  type ValidationArguments,
  ValidateBy,
} from 'class-validator';

/** A label or annotation set: an object whose values are all strings. */
const IsStringMap = () =>
  ValidateBy({
    name: 'isStringMap',
    validator: {
      validate: (value: unknown) =>
        typeof value === 'object' &&
        value !== null &&
        !Array.isArray(value) &&
        Object.values(value).every((v) => typeof v === 'string'),
      defaultMessage: (args?: ValidationArguments) => `${args?.property} must be an object of strings`,
    },
  });

/** The longest alert name the service records (the alert_events column). */
export const MAX_ALERTNAME_CHARS = 128;
/**
 * The longest start time taken: an RFC 3339 time with nanoseconds and an offset, as Alertmanager writes it, is 35
 * characters. With a fingerprint of at most 64 digits, the alert's key `<fingerprint>@<startsAt>` fits its column.
 */
export const MAX_STARTS_AT_CHARS = 64;

const AlertnameFits = () =>
  ValidateBy({
    name: 'alertnameFits',
    validator: {
      validate: (labels: Record<string, string>) => (labels.alertname ?? '').length <= MAX_ALERTNAME_CHARS,
      defaultMessage: () => `labels.alertname must be at most ${MAX_ALERTNAME_CHARS} characters`,
    },
  });

const STARTS_AT = `startsAt must be an RFC 3339 time of at most ${MAX_STARTS_AT_CHARS} characters`;

const EXAMPLE_ALERT = {
  status: 'firing',
  labels: { alertname: 'ModelF1BelowThreshold', model_version: 'v4', severity: 'warning' },
  annotations: { summary: 'Live weighted F1 of v4 is 0.41, under 0.6' },
  startsAt: '2026-12-02T10:00:00.000Z',
  endsAt: '0001-01-01T00:00:00Z',
  generatorURL: 'http://prometheus:9090/graph',
  fingerprint: '5c4a1f0e8d2b7a93',
};

export const ALERTMANAGER_EXAMPLES = {
  firing: {
    summary: 'ModelF1BelowThreshold firing',
    value: {
      version: '4',
      groupKey: '{}:{alertname="ModelF1BelowThreshold"}',
      truncatedAlerts: 0,
      status: 'firing',
      receiver: 'retraining',
      groupLabels: { alertname: 'ModelF1BelowThreshold' },
      commonLabels: EXAMPLE_ALERT.labels,
      commonAnnotations: EXAMPLE_ALERT.annotations,
      externalURL: 'http://alertmanager:9093',
      alerts: [EXAMPLE_ALERT],
    },
  },
};

export class AlertDto {
  @ApiProperty({ enum: ['firing', 'resolved'] })
  @IsIn(['firing', 'resolved'], { message: 'status must be firing or resolved' })
  status: 'firing' | 'resolved';

  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' }, example: EXAMPLE_ALERT.labels })
  @AlertnameFits()
  @IsStringMap()
  labels: Record<string, string>;

  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' } })
  @IsOptional()
  @IsStringMap()
  annotations?: Record<string, string>;

  @ApiProperty({ example: EXAMPLE_ALERT.startsAt, maxLength: MAX_STARTS_AT_CHARS })
  // The length first: it bounds the work of the time parser.
  @IsISO8601({}, { message: STARTS_AT })
  @MaxLength(MAX_STARTS_AT_CHARS, { message: STARTS_AT })
  startsAt: string;

  @ApiPropertyOptional({ example: EXAMPLE_ALERT.endsAt })
  @IsOptional()
  @IsString({ message: 'endsAt must be a string (an RFC 3339 time)' })
  endsAt?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString({ message: 'generatorURL must be a string' })
  generatorURL?: string;

  @ApiProperty({ example: EXAMPLE_ALERT.fingerprint })
  @Matches(/^[0-9a-f]{1,64}$/, { message: 'fingerprint must be a hexadecimal fingerprint of 1 to 64 digits' })
  fingerprint: string;
}

/** Alertmanager's webhook notification, payload version 4. */
export class AlertmanagerNotificationDto {
  @ApiProperty({ example: '4' })
  @IsIn(['4'], {
    message: 'version must be "4" (the Alertmanager webhook payload version this service reads)',
  })
  version: string;

  @ApiProperty()
  @MaxLength(10_000, { message: 'groupKey must be at most 10000 characters' })
  @IsString({ message: 'groupKey must be a string' })
  groupKey: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsInt({ message: 'truncatedAlerts must be a whole number' })
  truncatedAlerts?: number;

  @ApiProperty({ enum: ['firing', 'resolved'] })
  @IsIn(['firing', 'resolved'], { message: 'status must be firing or resolved' })
  status: string;

  @ApiProperty()
  @IsString({ message: 'receiver must be a string' })
  receiver: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' } })
  @IsOptional()
  @IsObject({ message: 'groupLabels must be an object' })
  groupLabels?: Record<string, string>;

  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' } })
  @IsOptional()
  @IsObject({ message: 'commonLabels must be an object' })
  commonLabels?: Record<string, string>;

  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' } })
  @IsOptional()
  @IsObject({ message: 'commonAnnotations must be an object' })
  commonAnnotations?: Record<string, string>;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString({ message: 'externalURL must be a string' })
  externalURL?: string;

  @ApiProperty({ type: [AlertDto] })
  @IsArray({ message: 'alerts must be an array' })
  @ValidateNested({ each: true })
  @Type(() => AlertDto)
  alerts: AlertDto[];
}

export class AlertHandlingDto {
  @ApiProperty({ example: 'ModelF1BelowThreshold' }) alertname: string;
  @ApiProperty() fingerprint: string;
  @ApiProperty({ enum: ['firing', 'resolved'] }) status: string;
  @ApiProperty({ description: '<fingerprint>@<startsAt>' }) key: string;
  @ApiProperty({
    enum: ['enqueued', 'absorbed', 'cooldown', 'duplicate', 'recorded', 'ignored'],
    description:
      'enqueued: a retraining job was queued; absorbed: one already queued or running takes it; cooldown: ' +
      'recorded as a skipped job; duplicate: this alert was received before; recorded: resolved; ignored: not a ' +
      'retraining alert (RETRAINING_ALERTS)',
  })
  result: string;
  @ApiProperty() reason: string;
  @ApiProperty({ nullable: true, type: String, format: 'uuid' }) jobId: string | null;
}

export class AlertmanagerResultDto {
  @ApiProperty({ type: [AlertHandlingDto] }) alerts: AlertHandlingDto[];
}
