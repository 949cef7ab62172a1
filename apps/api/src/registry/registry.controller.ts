import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { AppConfig } from '@app/config';
import { acceptanceThresholds, MODALITIES, type ModelCalibration } from '@app/ml';
import { ModelRegistry, PromotionWorkflow, type ModelVersionRecord } from '@app/registry';
import { CurrentPrincipal, Roles } from '../auth/auth.decorators';
import type { Principal } from '../auth/principal.types';
import { ApiErrors, ERROR_MEANING } from '../common/api-errors.decorator';
import {
  ModelCalibrationDto,
  ModelListDto,
  ModelVersionDto,
  ModelVersionSummaryDto,
  PromotionAuditDto,
  PromotionRequestDto,
  PromotionResultDto,
} from './registry.dto';

const NO_SUCH_VERSION = 'No model version of that name';
const DOES_NOT_LOAD =
  'The version does not load: a file is missing, does not match its checksum or is not a model; nothing moved';

@ApiTags('models')
@Controller('v1')
export class RegistryController {
  constructor(
    private readonly registry: ModelRegistry,
    private readonly promotion: PromotionWorkflow,
    private readonly config: AppConfig,
  ) {}

  @Get('models')
  @Roles('client', 'ml-engineer')
  @ApiOperation({ summary: 'Every registered model version, newest first, and the production pointer' })
  @ApiOkResponse({ type: ModelListDto })
  @ApiErrors({ 503: ERROR_MEANING.unavailable })
  async list(): Promise<ModelListDto> {
    const [production, versions] = await Promise.all([this.registry.production(), this.registry.list()]);
    return { production, versions: versions.map((v) => summary(v, production.version)) };
  }

  @Get('models/:version')
  @Roles('ml-engineer')
  @ApiOperation({
    summary:
      'One model version: metrics, model card, lineage, promotion-gate decision and files with checksums',
  })
  @ApiOkResponse({ type: ModelVersionDto })
  @ApiErrors({ 404: NO_SUCH_VERSION, 503: ERROR_MEANING.unavailable })
  async show(@Param('version') version: string): Promise<ModelVersionDto> {
    const [record, production] = await Promise.all([this.registry.get(version), this.registry.production()]);
    return {
      ...summary(record, production.version),
      modelCard: record.modelCard,
      files: record.files,
      artifactPrefix: record.artifactPrefix,
      lineage: record.lineage,
      gate: record.gate,
      calibration: this.calibration(record),
    };
  }

  @Post('models/:version/promote')
  @Roles('ml-engineer')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Make a version the production model',
    description:
      'The version is downloaded, verified and loaded first; if it does not load, nothing changes.',
  })
  @ApiOkResponse({ type: PromotionResultDto })
  @ApiErrors({
    400: ERROR_MEANING.badBody,
    404: NO_SUCH_VERSION,
    409: 'The version is already in production',
    413: ERROR_MEANING.bodyTooLarge,
    422: DOES_NOT_LOAD,
    503: ERROR_MEANING.unavailable,
  })
  async promote(
    @Param('version') version: string,
    @Body() body: PromotionRequestDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<PromotionResultDto> {
    return this.promotion.promote(version, { actor: principal.name, reason: body.reason ?? null });
  }

  @Post('models/rollback')
  @Roles('admin')
  @HttpCode(200)
  @ApiOperation({ summary: 'Go back to the version that was in production before the current one' })
  @ApiOkResponse({ type: PromotionResultDto })
  @ApiErrors({
    400: ERROR_MEANING.badBody,
    409: 'Nothing to roll back to: no version was in production before the current one',
    413: ERROR_MEANING.bodyTooLarge,
    422: DOES_NOT_LOAD,
    503: ERROR_MEANING.unavailable,
  })
  async rollback(
    @Body() body: PromotionRequestDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<PromotionResultDto> {
    return this.promotion.rollback({ actor: principal.name, reason: body.reason ?? null });
  }

  @Get('promotions')
  @Roles('ml-engineer')
  @ApiOperation({ summary: 'The audit log of promotions and rollbacks, newest first' })
  @ApiQuery({ name: 'limit', required: false, type: Number })
  @ApiOkResponse({ type: [PromotionAuditDto] })
  @ApiErrors({ 503: ERROR_MEANING.unavailable })
  history(@Query('limit') limit?: string): Promise<PromotionAuditDto[]> {
    const n = Number(limit ?? 100);
    return this.registry.history(Number.isInteger(n) && n > 0 ? Math.min(n, 1000) : 100);
  }

  /** The card's calibration with the thresholds this version gets under the configured target precision. */
  private calibration(record: ModelVersionRecord): ModelCalibrationDto | null {
    const calibration = record.modelCard.calibration as ModelCalibration | undefined;
    if (!calibration?.modalities) return null;
    const targetPrecision = this.config.env.AUTO_ACCEPT_PRECISION;
    const thresholds = acceptanceThresholds(calibration, targetPrecision);
    const modalities: ModelCalibrationDto['modalities'] = {};
    for (const modality of MODALITIES) {
      const fit = calibration.modalities[modality];
      if (!fit) continue;
      modalities[modality] = {
        temperature: fit.temperature,
        n: fit.n,
        accuracy: fit.accuracy,
        eceBefore: fit.ece.before,
        eceAfter: fit.ece.after,
        threshold: thresholds[modality],
        reliabilityBefore: fit.reliability.before,
        reliabilityAfter: fit.reliability.after,
        curve: fit.curve,
      };
    }
    return { targetPrecision, heldOut: calibration.heldOut, modalities };
  }
}

function summary(record: ModelVersionRecord, production: string | null): ModelVersionSummaryDto {
  return {
    version: record.version,
    createdAt: record.createdAt,
    createdBy: record.createdBy,
    source: record.source,
    parentVersion: record.parentVersion,
    dataFingerprint: record.dataFingerprint,
    metrics: record.metrics,
    isProduction: record.version === production,
  };
}
