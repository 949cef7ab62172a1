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
