import {
  Body,
  Controller,
  Get,
  HttpCode,
  Inject,
  NotFoundException,
  Param,
  Post,
  Res,
  StreamableFile,
} from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { PredictionImages } from '@app/feedback';
import { PRODUCT_TYPE_CODES, sniffImageFormat } from '@app/ml';
import { ArtifactNotFoundError, ARTIFACT_STORE, type ArtifactStore } from '@app/storage';
import { CurrentPrincipal, Roles } from '../auth/auth.decorators';
import type { Principal } from '../auth/principal.types';
import { ApiErrors, ERROR_MEANING } from '../common/api-errors.decorator';
import { UuidParamPipe } from '../common/uuid-param.pipe';
import { ModelServingService } from '../serving/model-serving.service';
import {
  ReviewCategoryDto,
  ReviewDecisionDto,
  ReviewDecisionRequestDto,
  ReviewNextDto,
  ReviewStatsDto,
} from './review.dto';
import { ReviewService } from './review.service';

const ID_PIPE = () => new UuidParamPipe('id must be a prediction id (a UUID)');

@ApiTags('review')
@Roles('reviewer')
@Controller('v1/review')
export class ReviewController {
  constructor(
    private readonly review: ReviewService,
    private readonly serving: ModelServingService,
    @Inject(ARTIFACT_STORE) private readonly store: ArtifactStore,
  ) {}

  @Get('next')
  @ApiOperation({
    summary: 'The next listing to label, leased to the caller',
    description:
      'Audit-sample listings first, then the ones the model is least sure of (smallest margin between its top two ' +
      'calibrated probabilities), oldest first among equal margins; one listing per near-duplicate title. The ' +
      'listing stays the caller’s for REVIEW_LEASE_SECONDS: asking again returns it (and renews the lease) until ' +
      'it is labelled or skipped. No other reviewer gets it meanwhile.',
  })
  @ApiOkResponse({ type: ReviewNextDto })
  @ApiErrors({ 503: ERROR_MEANING.unavailable })
  async next(@CurrentPrincipal() principal: Principal): Promise<ReviewNextDto> {
    return { item: await this.review.next(principal) };
  }

  @Get('stats')
  @ApiOperation({ summary: 'What is left, what was labelled and skipped today (UTC), per reason' })
  @ApiOkResponse({ type: ReviewStatsDto })
  @ApiErrors({ 503: ERROR_MEANING.unavailable })
  stats(@CurrentPrincipal() principal: Principal): Promise<ReviewStatsDto> {
    return this.review.stats(principal);
  }

  @Get('categories')
  @ApiOperation({ summary: 'The 27 product type codes a listing may be labelled with, with their names' })
  @ApiOkResponse({ type: [ReviewCategoryDto] })
  categories(): ReviewCategoryDto[] {
    return PRODUCT_TYPE_CODES.map((prdtypecode) => ({
      prdtypecode,
      name: this.serving.categoryName(prdtypecode),
    }));
  }

  @Get(':id/image')
  @ApiOperation({ summary: 'The photo sent with a queued listing (KEEP_PREDICTION_IMAGES keeps them)' })
  @ApiOkResponse({
    description: 'The photo bytes (JPEG, PNG or WebP)',
    content: Object.fromEntries(
      ['image/jpeg', 'image/png', 'image/webp'].map((type) => [
        type,
        { schema: { type: 'string', format: 'binary' } },
      ]),
    ),
  })
  @ApiErrors({
    400: 'The id is not a UUID',
    404: 'No queued listing with this id, or it has no photo (none sent, or no longer kept)',
    503: ERROR_MEANING.unavailable,
  })
  async image(
    @Param('id', ID_PIPE()) id: string,
    @Res({ passthrough: true }) res: Response,
  ): Promise<StreamableFile> {
    const sha = await this.review.imageOf(id);
    let bytes: Buffer;
    try {
      bytes = await this.store.get(PredictionImages.keyOf(sha));
    } catch (error) {
      if (error instanceof ArtifactNotFoundError) {
        throw new NotFoundException(`The photo of listing ${id} is no longer kept`);
      }
      throw error;
    }
    res.setHeader('Cache-Control', 'private, max-age=3600');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    const format = sniffImageFormat(bytes);
    return new StreamableFile(bytes, { type: format ? `image/${format}` : 'application/octet-stream' });
  }

  @Post(':id')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Label a listing (its true prdtypecode) or skip it with a reason',
    description:
      'A label goes through the feedback workflow (same rules as POST /v1/predictions/{id}/feedback: one label per ' +
      'prediction, a different one is a conflict unless an admin sends it, overwrites audited), stored with source ' +
      '`review`, or `audit` for audit-sample listings. Waiting listings with a near-duplicate title get the same ' +
      'label. Sending the same label again is answered `unchanged`.',
  })
  @ApiOkResponse({ type: ReviewDecisionDto })
  @ApiErrors({
    400: 'The id is not a UUID; neither or both of prdtypecode and skip; an unknown code or skip reason',
    404: 'No listing of the review queue has this id',
    409: 'Leased to another reviewer, already labelled or skipped, or the prediction has a different label',
    413: ERROR_MEANING.bodyTooLarge,
    503: ERROR_MEANING.unavailable,
  })
  decide(
    @Param('id', ID_PIPE()) id: string,
    @Body() body: ReviewDecisionRequestDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<ReviewDecisionDto> {
    return this.review.decide(id, body, principal);
  }
}
