import 'reflect-metadata';
import { Transform, Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, MinLength } from 'class-validator';

const trimmedOrUndefined = ({ value }: { value: unknown }) =>
  typeof value === 'string' && value.trim() === '' ? undefined : value;

/**
 * Every environment variable the processes read. Unset optional services select the embedded drivers
 * (SQLite, local artifact directory, in-process jobs), see DESIGN.md.
 */
export class EnvironmentSchema {
  @IsOptional()
  @IsIn(['development', 'production', 'test'])
  NODE_ENV: 'development' | 'production' | 'test' = 'development';

  @Type(() => Number)
  @Min(0)
  @Max(65535)
  // class-validator checks decorators bottom-up: the type check must come first.
  @IsInt({ message: 'PORT must be a whole number, e.g. PORT=3000' })
  PORT = 3000;

  @Type(() => Number)
  @Min(0)
  @Max(65535)
  // class-validator checks decorators bottom-up: the type check must come first.
  @IsInt({ message: 'WORKER_PORT must be a whole number, e.g. WORKER_PORT=3001' })
  WORKER_PORT = 3001;

  @IsOptional()
  @IsIn(['fatal', 'error', 'warn', 'log', 'debug', 'verbose'])
  LOG_LEVEL: 'fatal' | 'error' | 'warn' | 'log' | 'debug' | 'verbose' = 'log';

  @Transform(trimmedOrUndefined)
  @IsOptional()
  @Matches(/^postgres(ql)?:\/\/\S+$/, {
    message: 'DATABASE_URL must be a postgres:// URL (leave it unset to use the embedded SQLite file)',
  })
  DATABASE_URL?: string;

  @Transform(trimmedOrUndefined)
  @IsOptional()
  @Matches(/^[a-z_][a-z0-9_]*$/, {
    message: 'DATABASE_SCHEMA must be a lower-case PostgreSQL schema name such as public or mlops',
  })
  DATABASE_SCHEMA?: string;

  @Transform(trimmedOrUndefined)
  @IsOptional()
  @Matches(/^rediss?:\/\/\S+$/, {
    message: 'REDIS_URL must be a redis:// or rediss:// URL (leave it unset to run jobs in-process)',
  })
  REDIS_URL?: string;

  @Transform(trimmedOrUndefined)
  @IsOptional()
  @IsString()
  @MinLength(3)
  S3_BUCKET?: string;

  @Transform(trimmedOrUndefined)
  @IsOptional()
  @Matches(/^https?:\/\/\S+$/, { message: 'S3_ENDPOINT must be an http:// or https:// URL' })
  S3_ENDPOINT?: string;

  @Transform(trimmedOrUndefined)
  @IsOptional()
  @IsString()
  S3_REGION?: string;

  @Transform(trimmedOrUndefined)
  @IsOptional()
  @IsString()
  AWS_ACCESS_KEY_ID?: string;

  @Transform(trimmedOrUndefined)
  @IsOptional()
  @IsString()
  AWS_SECRET_ACCESS_KEY?: string;

  @Transform(trimmedOrUndefined)
  @IsOptional()
  @IsString()
  DATA_DIR?: string;

  @IsString()
  VAR_DIR = './var';

  @Type(() => Number)
  @Min(1)
  @Max(10_000)
  @IsInt({ message: 'PREDICTION_BATCH_LIMIT must be a whole number of items, e.g. 256' })
  PREDICTION_BATCH_LIMIT = 256;

  @Type(() => Number)
  @Min(1024)
  @IsInt({ message: 'MAX_IMAGE_BYTES must be a whole number of bytes, e.g. 5242880 (5 MiB)' })
  MAX_IMAGE_BYTES = 5 * 1024 * 1024;

  @Type(() => Number)
  @Min(1024)
  @IsInt({ message: 'MAX_BODY_BYTES must be a whole number of bytes, e.g. 10485760 (10 MiB)' })
  MAX_BODY_BYTES = 10 * 1024 * 1024;

  @Type(() => Number)
  @Min(100)
  @IsInt({ message: 'MODEL_POLL_INTERVAL_MS must be a whole number of milliseconds, e.g. 5000' })
  MODEL_POLL_INTERVAL_MS = 5000;

  @IsOptional()
  @IsIn(['auto', 'off'], {
    message: 'BOOTSTRAP_MODEL must be auto (train a first model when the registry is empty) or off',
  })
  BOOTSTRAP_MODEL: 'auto' | 'off' = 'auto';

  @Transform(trimmedOrUndefined)
  @IsOptional()
  @IsString()
  @MinLength(32, { message: 'JWT_SECRET must be at least 32 characters long' })
  JWT_SECRET?: string;

  @Transform(trimmedOrUndefined)
  @IsOptional()
  @IsString()
  ADMIN_USERNAME?: string;

  @Transform(trimmedOrUndefined)
  @IsOptional()
  @IsString()
  @MinLength(12, { message: 'ADMIN_PASSWORD must be at least 12 characters long' })
  ADMIN_PASSWORD?: string;

  @Transform(trimmedOrUndefined)
  @IsOptional()
  @IsString()
  @MinLength(16, { message: 'ALERTMANAGER_WEBHOOK_TOKEN must be at least 16 characters long' })
  ALERTMANAGER_WEBHOOK_TOKEN?: string;
}
