import {
  Body,
  Controller,
  Get,
  HttpCode,
  Param,
  Post,
  Req,
  UploadedFile,
  UseInterceptors,
} from '@nestjs/common';
import type { Request } from 'express';
import { FileInterceptor } from '@nestjs/platform-express';
import { ApiBody, ApiConsumes, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { LoadShedder } from '../admission/load.shedder';
import { CurrentPrincipal, Roles } from '../auth/auth.decorators';
import { ApiErrors, ERROR_MEANING } from '../common/api-errors.decorator';
import type { Principal } from '../auth/principal.types';
import {
  BATCH_EXAMPLES,
  BatchPredictionRequestDto,
  BatchPredictionResponseDto,
  PREDICTION_EXAMPLES,
  PredictionRequestDto,
  PredictionResponseDto,
  StoredPredictionDto,
} from './prediction.dto';
import { PredictionService } from './prediction.service';
import { UuidParamPipe } from '../common/uuid-param.pipe';

/** Errors of both prediction routes (the 413 differs). */
const PREDICTION_ERRORS = {
  400: `${ERROR_MEANING.badBody}, or an item has neither a designation nor an image`,
  415: 'An image is not a JPEG, PNG or WebP file (judged by its bytes)',
  422: 'An image has the signature of its format but does not decode, or only an image is given to a model without an image part',
  503:
    'No model is loaded yet, the prediction store is too far behind to take more, or the service is at its limit ' +
    'of requests in flight (MAX_IN_FLIGHT, MAX_QUEUE_WAIT_MS); Retry-After says when to try again',
};

@ApiTags('predictions')
@Roles('client')
@Controller('v1/predictions')
export class PredictionController {
  constructor(
    private readonly predictions: PredictionService,
    private readonly shedder: LoadShedder,
  ) {}

  @Post()
  @HttpCode(200)
  @UseInterceptors(FileInterceptor('image'))
  @ApiOperation({
    summary: 'Classify one product',
    description:
      'JSON with the image as base64, or multipart/form-data with the image as a file field named "image".',
  })
  @ApiConsumes('application/json', 'multipart/form-data')
  @ApiBody({ type: PredictionRequestDto, examples: PREDICTION_EXAMPLES })
  @ApiOkResponse({ type: PredictionResponseDto })
  @ApiErrors({
    ...PREDICTION_ERRORS,
    413: 'The body is larger than MAX_BODY_BYTES, or the image larger than MAX_IMAGE_BYTES',
  })
  async predictOne(
    @Body() body: PredictionRequestDto,
    @CurrentPrincipal() principal: Principal,
    @Req() req: Request,
    @UploadedFile() file?: Express.Multer.File,
  ): Promise<PredictionResponseDto> {
    const image = file?.buffer ?? this.predictions.imageFromBase64(body.image, 'image');
    const { predictions } = await this.predictions.predict(
      [{ designation: body.designation, description: body.description, image }],
      body.topK,
      principal.name,
      this.shedder.deadline(req),
      body.minConfidence,
    );
    return predictions[0];
  }

  @Post('batch')
  @HttpCode(200)
  @ApiOperation({ summary: 'Classify a batch of products (JSON, images as base64)' })
  @ApiBody({ type: BatchPredictionRequestDto, examples: BATCH_EXAMPLES })
  @ApiOkResponse({ type: BatchPredictionResponseDto })
  @ApiErrors({
    ...PREDICTION_ERRORS,
    413: 'More items than PREDICTION_BATCH_LIMIT, a body larger than MAX_BODY_BYTES, or an image larger than MAX_IMAGE_BYTES',
  })
  predictBatch(
    @Body() body: BatchPredictionRequestDto,
    @CurrentPrincipal() principal: Principal,
    @Req() req: Request,
  ): Promise<BatchPredictionResponseDto> {
    const items = body.items.map((item, index) => ({
      designation: item.designation,
      description: item.description,
      image: this.predictions.imageFromBase64(item.image, `items[${index}].image`),
    }));
    return this.predictions.predict(
      items,
      body.topK,
      principal.name,
      this.shedder.deadline(req),
      body.minConfidence,
    );
  }

  @Get(':id')
  @Roles('client', 'ml-engineer')
  @ApiOperation({ summary: 'Read a prediction back' })
  @ApiOkResponse({ type: StoredPredictionDto })
  @ApiErrors({
    400: 'The id is not a UUID',
    404: 'No prediction with this id (for a client: none of its own)',
    503: ERROR_MEANING.unavailable,
  })
  findOne(
    @Param('id', new UuidParamPipe('id must be a prediction id (a UUID)'))
    id: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<StoredPredictionDto> {
    // Clients see their own predictions; ML engineers and admins see every one (for audits and feedback work).
    const anyone = principal.roles.some((role) => role === 'admin' || role === 'ml-engineer');
    return this.predictions.findOne(id, anyone ? undefined : principal.name);
  }
}
