import {
  BadRequestException,
  Body,
  Controller,
  Get,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Post,
  UploadedFile,
  UseInterceptors,
} from '@nestjs/common';
import { FileInterceptor } from '@nestjs/platform-express';
import { ApiBody, ApiConsumes, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Roles } from '../auth/auth.decorators';
import type { Principal } from '../auth/principal';
import {
  BatchPredictionRequestDto,
  BatchPredictionResponseDto,
  PredictionRequestDto,
  PredictionResponseDto,
  StoredPredictionDto,
} from './prediction.dto';
import { PredictionService } from './prediction.service';

@ApiTags('predictions')
@Roles('client')
@Controller('v1/predictions')
export class PredictionController {
  constructor(private readonly predictions: PredictionService) {}

  @Post()
  @HttpCode(200)
  @UseInterceptors(FileInterceptor('image'))
  @ApiOperation({
    summary: 'Classify one product',
    description:
      'JSON with the image as base64, or multipart/form-data with the image as a file field named "image".',
  })
  @ApiConsumes('application/json', 'multipart/form-data')
  @ApiBody({ type: PredictionRequestDto })
  @ApiOkResponse({ type: PredictionResponseDto })
  async predictOne(
    @Body() body: PredictionRequestDto,
    @CurrentPrincipal() principal: Principal,
    @UploadedFile() file?: Express.Multer.File,
  ): Promise<PredictionResponseDto> {
    const image = file?.buffer ?? this.predictions.imageFromBase64(body.image, 'image');
    const { predictions } = await this.predictions.predict(
      [{ designation: body.designation, description: body.description, image }],
      body.topK,
      principal.name,
    );
    return predictions[0];
  }

  @Post('batch')
  @HttpCode(200)
  @ApiOperation({ summary: 'Classify a batch of products (JSON, images as base64)' })
  @ApiOkResponse({ type: BatchPredictionResponseDto })
  predictBatch(
    @Body() body: BatchPredictionRequestDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<BatchPredictionResponseDto> {
    const items = body.items.map((item, index) => ({
      designation: item.designation,
      description: item.description,
      image: this.predictions.imageFromBase64(item.image, `items[${index}].image`),
    }));
    return this.predictions.predict(items, body.topK, principal.name);
  }

  @Get(':id')
  @Roles('client', 'ml-engineer')
  @ApiOperation({ summary: 'Read a prediction back' })
  @ApiOkResponse({ type: StoredPredictionDto })
  findOne(
    @Param(
      'id',
      new ParseUUIDPipe({
        exceptionFactory: () => new BadRequestException('id must be a prediction id (a UUID)'),
      }),
    )
    id: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<StoredPredictionDto> {
    // Clients see their own predictions; ML engineers and admins see every one (for audits and feedback work).
    const anyone = principal.roles.some((role) => role === 'admin' || role === 'ml-engineer');
    return this.predictions.findOne(id, anyone ? undefined : principal.name);
  }
}
