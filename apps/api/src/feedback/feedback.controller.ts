import { Body, Controller, HttpCode, Param, Post, Res } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentPrincipal, Roles } from '../auth/auth.decorators';
import { ApiErrors, ERROR_MEANING } from '../common/api-errors.decorator';
import type { Principal } from '../auth/principal.types';
import {
  FeedbackBatchRequestDto,
  FeedbackBatchResultDto,
  FeedbackDto,
  FeedbackRequestDto,
} from './feedback.dto';
import { FeedbackService } from './feedback.service';
import { UuidParamPipe } from '../common/uuid-param.pipe';

@ApiTags('feedback')
@Controller('v1')
export class FeedbackController {
  constructor(private readonly feedback: FeedbackService) {}

  @Post('predictions/:id/feedback')
  @Roles('client', 'ml-engineer')
  @ApiOperation({
    summary: 'Report the true product type code of a prediction',
    description:
      'Counts against the model version that served the prediction (live F1, GET /v1/monitoring/live) and joins ' +
      'the next retraining. A client labels its own predictions; ML engineers and admins any. One label per ' +
      'prediction: the same label again is answered 200; a different one 409, unless an admin sends it ' +
      '(replaced, audited).',
  })
  @ApiCreatedResponse({ type: FeedbackDto, description: 'The first label of this prediction' })
  @ApiOkResponse({ type: FeedbackDto, description: 'The same label again, or an admin replaced it' })
  @ApiErrors({
    400: 'The id is not a UUID, or prdtypecode is not one of the 27 codes (the message lists them)',
    404: 'No prediction with this id (for a client: none of its own)',
    409: 'The prediction already has a different label; only an admin may replace it',
    413: ERROR_MEANING.bodyTooLarge,
    503: ERROR_MEANING.unavailable,
  })
  async label(
    @Param('id', new UuidParamPipe('id must be a prediction id (a UUID)'))
    id: string,
    @Body() body: FeedbackRequestDto,
    @CurrentPrincipal() principal: Principal,
    @Res({ passthrough: true }) res: Response,
  ): Promise<FeedbackDto> {
    const dto = await this.feedback.label(id, body.prdtypecode, principal);
    res.status(dto.result === 'created' ? 201 : 200);
    return dto;
  }

  @Post('feedback/batch')
  @HttpCode(200)
  @Roles('ml-engineer')
  @ApiOperation({
    summary: 'Import many labels at once',
    description:
      'For operators: each item is judged as the single-label route would, and answered with its own status; ' +
      'one bad item does not stop the others.',
  })
  @ApiOkResponse({ type: FeedbackBatchResultDto })
  @ApiErrors({
    400: ERROR_MEANING.badBody,
    413: 'More items than FEEDBACK_BATCH_LIMIT, or a body larger than MAX_BODY_BYTES',
    503: ERROR_MEANING.unavailable,
  })
  labelBatch(
    @Body() body: FeedbackBatchRequestDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<FeedbackBatchResultDto> {
    return this.feedback.labelBatch(body.items, principal);
  }
}
