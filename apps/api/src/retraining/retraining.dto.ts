import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsObject,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';

// One message per field, whichever of its rules fails: each states the whole rule.
const SEED = 'seed must be a whole number from 0 to 2147483647';
const NEURAL_MODELS = 'neuralModels must be a whole number from 0 to 5';
const LINEAR_VIEWS = 'linearViews must be a list of distinct views: listing, merged, blocked';
const MAX_ROWS = 'maxRows must be a whole number of rows from 100 to 10000000';

export class TrainingParamsDto {
  @ApiPropertyOptional({ description: 'Random seed of the training run', example: 0, minimum: 0 })
  @IsOptional()
  @Min(0, { message: SEED })
  @Max(2 ** 31 - 1, { message: SEED })
  @IsInt({ message: SEED })
  seed?: number;

  @ApiPropertyOptional({
    description: 'Text networks in the ensemble (default 3); fewer train faster',
    minimum: 0,
  })
  @IsOptional()
  @Min(0, { message: NEURAL_MODELS })
  @Max(5, { message: NEURAL_MODELS })
  @IsInt({ message: NEURAL_MODELS })
  neuralModels?: number;

  @ApiPropertyOptional({
    description: 'Linear text models (default both)',
    type: [String],
    enum: ['listing', 'merged', 'blocked'],
  })
  @IsOptional()
  @IsIn(['listing', 'merged', 'blocked'], { each: true, message: LINEAR_VIEWS })
  @ArrayUnique({ message: LINEAR_VIEWS })
  @IsArray({ message: LINEAR_VIEWS })
  linearViews?: ('listing' | 'merged' | 'blocked')[];

  @ApiPropertyOptional({ description: 'Train the image model too (default true)' })
  @IsOptional()
  @IsBoolean({ message: 'withImages must be true or false' })
  withImages?: boolean;

  @ApiPropertyOptional({
    description:
      'Data selection: a seeded random sample of at most this many rows of each file (default: all)',
    minimum: 100,
  })
  @IsOptional()
  @Min(100, { message: MAX_ROWS })
  @Max(10_000_000, { message: MAX_ROWS })
  @IsInt({ message: MAX_ROWS })
  maxRows?: number;
}

export class RetrainingRequestDto {
  @ApiProperty({ description: 'Why, for the job history and the lineage', example: 'new listings for Q3' })
  @MaxLength(500, { message: 'reason must be at most 500 characters' })
  @IsNotEmpty({ message: 'reason must say why the model is retrained' })
  @IsString({ message: 'reason must be a string saying why the model is retrained' })
  reason: string;

  @ApiPropertyOptional({ type: TrainingParamsDto })
  @IsOptional()
  // An array would be validated element by element (params[0]…) rather than refused.
  @IsObject({ message: 'params must be an object' })
  @ValidateNested()
  @Type(() => TrainingParamsDto)
  params?: TrainingParamsDto;
  @ApiPropertyOptional({
    description:
      'Admins only: run even within the cooldown after the last retraining (RETRAINING_COOLDOWN_MINUTES)',
  })
  @IsOptional()
  @IsBoolean({ message: 'force must be true or false' })
  force?: boolean;
}

export class RetrainingJobDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ enum: ['queued', 'running', 'succeeded', 'failed', 'skipped', 'cancelled'] }) state: string;
  @ApiProperty({
    example: 'training',
    description:
      'queued, starting, loading-data, training, saving, registering, promoting, done, failed or cancelled',
  })
  phase: string;
  @ApiProperty({ example: 'admin:alice', description: 'admin:<user>, bootstrap, cli or alert:<key>' })
  trigger: string;
  @ApiProperty() reason: string;
  @ApiProperty({ type: TrainingParamsDto }) params: TrainingParamsDto;
  @ApiProperty({
    nullable: true,
    type: 'object',
    additionalProperties: true,
    description: 'phase, model, modelIndex of modelCount, epoch, valWeightedF1',
  })
  progress: Record<string, unknown> | null;
  @ApiProperty({ description: 'Attempts started so far' }) attempts: number;
  @ApiProperty({ nullable: true, type: String }) error: string | null;
  @ApiProperty({ nullable: true, type: String, example: 'v4' }) resultVersion: string | null;
  @ApiProperty({
    nullable: true,
    type: 'object',
    additionalProperties: true,
    description: 'The promotion gate',
  })
  gate: Record<string, unknown> | null;
  @ApiProperty() createdAt: Date;
  @ApiProperty({ nullable: true, type: Date }) startedAt: Date | null;
  @ApiProperty({ nullable: true, type: Date }) finishedAt: Date | null;
  @ApiProperty({ nullable: true, type: Date }) updatedAt: Date | null;
  @ApiProperty({
    nullable: true,
    type: Date,
    description: 'When training began (its data loaded): only a job that trained starts the cooldown',
  })
  trainingStartedAt: Date | null;
  @ApiProperty({ nullable: true, type: String, example: 'admin:alice', description: 'Who cancelled the job' })
  cancelledBy: string | null;
  @ApiProperty({ nullable: true, type: Date }) cancelledAt: Date | null;
}

export class RetrainingRequestResultDto extends RetrainingJobDto {
  @ApiProperty({ description: 'true when a job already waiting absorbed this request' })
  deduplicated: boolean;
  @ApiProperty({
    description:
      'true when the request came within the cooldown after the last retraining: recorded as a skipped job ' +
      '(progress.message says until when), nothing queued',
  })
  cooledDown: boolean;
}
