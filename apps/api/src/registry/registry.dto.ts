import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';

export class PromotionRequestDto {
  @ApiPropertyOptional({
    description: 'Why, for the audit log',
    example: 'better weighted F1 on last week data',
  })
  @IsOptional()
  @MaxLength(500)
  @IsString()
  reason?: string;
}

export class ModelFileDto {
  @ApiProperty() path: string;
  @ApiProperty() sha256: string;
  @ApiProperty() bytes: number;
}

export class ModelVersionSummaryDto {
  @ApiProperty({ example: 'v3' }) version: string;
  @ApiProperty() createdAt: Date;
  @ApiProperty() createdBy: string;
  @ApiProperty({ example: 'worker' }) source: string;
  @ApiProperty({ nullable: true, type: String, description: 'The version it was retrained from' })
  parentVersion: string | null;
  @ApiProperty({ nullable: true, type: String }) dataFingerprint: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true }) metrics: Record<string, unknown>;
  @ApiProperty() isProduction: boolean;
}

export class ReliabilityBinDto {
  @ApiProperty({ example: 0.8 }) lower: number;
  @ApiProperty({ example: 0.9 }) upper: number;
  @ApiProperty({ example: 0.85, description: 'Mean top probability of the held-out predictions in the bin' })
  meanConfidence: number;
  @ApiProperty({ example: 0.83, description: 'Share of them that were right' }) accuracy: number;
  @ApiProperty({ example: 41 }) count: number;
}

export class CoveragePointDto {
  @ApiProperty({ example: 0.9 }) threshold: number;
  @ApiProperty({ example: 0.62, description: 'Share of held-out predictions at or above the threshold' })
  coverage: number;
  @ApiProperty({ nullable: true, type: Number, example: 0.97, description: 'Their accuracy; null when none' })
  precision: number | null;
  @ApiProperty({ example: 298 }) count: number;
}

export class ModalityCalibrationDto {
  @ApiProperty({ example: 1.6, description: 'p′ ∝ p^(1/T); above 1 softens an over-confident model' })
  temperature: number;
  @ApiProperty({ example: 480, description: 'Held-out rows scored with this modality' }) n: number;
  @ApiProperty({ example: 0.81 }) accuracy: number;
  @ApiProperty({ example: 0.07, description: 'Expected calibration error before the temperature' })
  eceBefore: number;
  @ApiProperty({ example: 0.02, description: 'Expected calibration error after it' }) eceAfter: number;
  @ApiProperty({
    example: 0.74,
    description:
      'The lowest threshold whose held-out precision above it keeps AUTO_ACCEPT_PRECISION (95 % lower bound); 1: none does',
  })
  threshold: number;
  @ApiProperty({ type: [ReliabilityBinDto], description: 'Reliability table before calibration' })
  reliabilityBefore: ReliabilityBinDto[];
  @ApiProperty({ type: [ReliabilityBinDto], description: 'Reliability table after calibration' })
  reliabilityAfter: ReliabilityBinDto[];
  @ApiProperty({
    type: [CoveragePointDto],
    description: 'Coverage / precision at every hundredth, after calibration',
  })
  curve: CoveragePointDto[];
}

export class CalibrationModalitiesDto {
  @ApiPropertyOptional({ type: ModalityCalibrationDto }) text?: ModalityCalibrationDto;
  @ApiPropertyOptional({ type: ModalityCalibrationDto }) image?: ModalityCalibrationDto;
  @ApiPropertyOptional({ type: ModalityCalibrationDto, name: 'text+image' })
  'text+image'?: ModalityCalibrationDto;
}

export class ModelCalibrationDto {
  @ApiProperty({ example: 0.95, description: 'AUTO_ACCEPT_PRECISION, which the thresholds keep' })
  targetPrecision: number;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'The held-out slice: fraction, seed, products, image-only rows, extra-text twins withheld',
  })
  heldOut: Record<string, unknown>;
  @ApiProperty({
    type: CalibrationModalitiesDto,
    description:
      'Each modality with enough held-out rows (the others are served at temperature 1, threshold 1)',
  })
  modalities: CalibrationModalitiesDto;
}

export class ModelVersionDto extends ModelVersionSummaryDto {
  @ApiProperty({ type: 'object', additionalProperties: true }) modelCard: Record<string, unknown>;
  @ApiProperty({ type: [ModelFileDto] }) files: ModelFileDto[];
  @ApiProperty({ example: 'models/v3/' }) artifactPrefix: string;
  @ApiProperty({
    nullable: true,
    type: 'object',
    additionalProperties: true,
    description:
      'Where it came from: trigger (admin:<user>, bootstrap, cli), job id, parent version; for retraining jobs also ' +
      'the data and its fingerprint, the evaluation split hash, parameters, backend, code version and durations',
  })
  lineage: Record<string, unknown> | null;
  @ApiProperty({
    nullable: true,
    type: 'object',
    additionalProperties: true,
    description:
      "The promotion gate's decision (retraining jobs): promote, reasons, rules, both models' figures on the " +
      'evaluation split, per-class drops and McNemar',
  })
  gate: Record<string, unknown> | null;
  @ApiProperty({
    nullable: true,
    type: ModelCalibrationDto,
    description:
      'How its probabilities are calibrated and where it accepts automatically, measured on held-out data; null ' +
      'for a version trained before calibration',
  })
  calibration: ModelCalibrationDto | null;
}

export class ProductionStateDto {
  @ApiProperty({ nullable: true, type: String }) version: string | null;
  @ApiProperty({ description: 'Increases by one at every promotion or rollback' }) revision: number;
  @ApiProperty({ nullable: true, type: Date }) updatedAt: Date | null;
}

export class ModelListDto {
  @ApiProperty({ type: ProductionStateDto }) production: ProductionStateDto;
  @ApiProperty({ type: [ModelVersionSummaryDto], description: 'Newest first' })
  versions: ModelVersionSummaryDto[];
}

export class PromotionAuditDto {
  @ApiProperty() id: number;
  @ApiProperty() at: Date;
  @ApiProperty() actor: string;
  @ApiProperty({ enum: ['promote', 'rollback'] }) action: 'promote' | 'rollback';
  @ApiProperty({ nullable: true, type: String }) fromVersion: string | null;
  @ApiProperty() toVersion: string;
  @ApiProperty({ nullable: true, type: String }) reason: string | null;
}

export class PromotionResultDto {
  @ApiProperty({ type: ProductionStateDto }) production: ProductionStateDto;
  @ApiProperty({ type: PromotionAuditDto }) audit: PromotionAuditDto;
}
