import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional, OmitType } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMinSize,
  IsArray,
  IsBase64,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';

/** A data URL ("data:image/png;base64,...") is accepted as well as bare base64. */
const stripDataUrl = ({ value }: { value: unknown }) =>
  typeof value === 'string' ? value.replace(/^data:[\w/+.-]+;base64,/, '') : value;

/** An 8×8 PNG of pool-water blue: a real image, small enough to sit in the OpenAPI examples. */
const EXAMPLE_PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAMAAADz0U65AAAAA1BMVEUebtIiYUZxAAAACXBIWXMAAAPoAAAD6AG1e1JrAAAADElEQVR42mNgoA4AAABIAAEQRe/SAAAAAElFTkSuQmCC';

/** The request examples /docs fills in (each one is sent by the OpenAPI test and answered 200). */
export const PREDICTION_EXAMPLES = {
  text: {
    summary: 'A title and a description',
    value: {
      designation: 'Piscine tubulaire ronde 3 m avec pompe de filtration',
      description: '<p>Structure acier, liner bleu, livrée avec sa pompe.</p>',
      topK: 3,
    },
  },
  photo: {
    summary: 'A title and a photo (base64)',
    value: { designation: 'Bâche à bulles pour piscine', image: EXAMPLE_PNG },
  },
};

export const BATCH_EXAMPLES = {
  two: {
    summary: 'Two products, one with a photo',
    value: {
      items: [
        { designation: 'Lot de 6 verres à vin en cristal 35 cl' },
        { designation: 'Bâche à bulles pour piscine', image: EXAMPLE_PNG },
      ],
      topK: 3,
    },
  },
};

export const MAX_DESIGNATION_CHARS = 2_000;
export const MAX_DESCRIPTION_CHARS = 50_000;

export class PredictionItemDto {
  @ApiPropertyOptional({
    description: 'Product title. Required unless an image is given.',
    example: 'Lot de 6 verres à vin en cristal 35 cl',
    maxLength: MAX_DESIGNATION_CHARS,
  })
  @IsOptional()
  @MaxLength(MAX_DESIGNATION_CHARS)
  @IsString()
  designation?: string;

  @ApiPropertyOptional({
    description: 'Product description; HTML is accepted and stripped.',
    example: '<p>Verres soufflés bouche, passent au lave-vaisselle.</p>',
    maxLength: MAX_DESCRIPTION_CHARS,
  })
  @IsOptional()
  @MaxLength(MAX_DESCRIPTION_CHARS)
  @IsString()
  description?: string;

  @ApiPropertyOptional({
    description: 'Product photo, base64-encoded JPEG, PNG or WebP (a data: URL is accepted too).',
    format: 'byte',
    example: EXAMPLE_PNG,
  })
  @IsOptional()
  @Transform(stripDataUrl)
  @IsBase64({}, { message: 'image must be a base64-encoded JPEG, PNG or WebP file' })
  image?: string;
}

/** How many of the best classes to return; the same option on single and batch requests. */
const TopK = () =>
  applyDecorators(
    // Applied in this order, so the type check registers (and reports) first.
    IsInt({ message: 'topK must be a whole number between 1 and 27' }),
    Max(27),
    Min(1),
    Type(() => Number),
    IsOptional(),
    ApiPropertyOptional({
      type: 'integer',
      description: 'How many of the best classes to return',
      minimum: 1,
      maximum: 27,
      default: 5,
    }),
  );

/**
 * The caller's own acceptance threshold, instead of the version's; the same option on single and batch requests
 * (a string in multipart forms, hence the conversion).
 */
const MinConfidence = () =>
  applyDecorators(
    IsNumber(
      { allowNaN: false, allowInfinity: false },
      { message: 'minConfidence must be a number from 0 to 1, e.g. 0.9' },
    ),
    Max(1, { message: 'minConfidence must be a number from 0 to 1, e.g. 0.9' }),
    Min(0, { message: 'minConfidence must be a number from 0 to 1, e.g. 0.9' }),
    Type(() => Number),
    IsOptional(),
    ApiPropertyOptional({
      type: 'number',
      minimum: 0,
      maximum: 1,
      example: 0.9,
      description:
        'Accept automatically only answers whose calibrated probability reaches this (1: none). Unset: the ' +
        "serving version's threshold, derived from AUTO_ACCEPT_PRECISION and its held-out curve.",
    }),
  );

export class PredictionRequestDto extends PredictionItemDto {
  @TopK()
  topK?: number;

  @MinConfidence()
  minConfidence?: number;
}

export class BatchPredictionRequestDto {
  @ApiProperty({
    type: [PredictionItemDto],
    description: 'The products to classify, answered in the same order',
  })
  @ArrayMinSize(1, { message: 'items must hold at least one product' })
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => PredictionItemDto)
  items: PredictionItemDto[];

  @TopK()
  topK?: number;

  @MinConfidence()
  minConfidence?: number;
}

export class ScoredClassDto {
  @ApiProperty({ example: 1320 }) prdtypecode: number;
  @ApiProperty({ example: 'Puériculture' }) category: string;
  @ApiProperty({ example: 0.91 }) probability: number;
}

export class PredictionResponseDto extends ScoredClassDto {
  @ApiProperty({
    format: 'uuid',
    description: 'Use it to read the prediction back or to report the true label',
  })
  id: string;
  @ApiProperty({ type: [ScoredClassDto], description: 'The best classes, most probable first' })
  top: ScoredClassDto[];
  @ApiProperty({
    enum: ['text', 'image', 'text+image'],
    description: 'The inputs the answer is based on',
  })
  modality: 'text' | 'image' | 'text+image';
  @ApiProperty({
    enum: ['accept', 'review'],
    description:
      'accept: the calibrated probability reaches the threshold, the answer can be used as it is; review: a person ' +
      'should check it',
  })
  decision: 'accept' | 'review';
  @ApiProperty({
    example: 0.87,
    minimum: 0,
    maximum: 1,
    description:
      "The threshold the decision was taken at: the request's minConfidence, else the version's threshold for " +
      'this modality (the lowest that keeps AUTO_ACCEPT_PRECISION on its held-out data; 1: nothing is accepted)',
  })
  threshold: number;
  @ApiPropertyOptional({
    type: [String],
    description:
      'Present only when part of the input was not used, e.g. an image sent to a model without an image part',
    example: ['this model has no image part: the image was not used, the answer comes from the text alone'],
  })
  warnings?: string[];
  @ApiProperty({ example: 'v3', description: 'The model version that answered' }) modelVersion: string;
  @ApiProperty({ description: 'Time spent classifying, in milliseconds' }) latencyMs: number;
}

export class BatchPredictionResponseDto {
  @ApiProperty({ example: 'v3' }) modelVersion: string;
  @ApiProperty({ type: [PredictionResponseDto] }) predictions: PredictionResponseDto[];
  @ApiProperty() latencyMs: number;
}

/** Warnings are part of the answer only; a stored prediction does not keep them. */
export class StoredPredictionDto extends OmitType(PredictionResponseDto, [
  'warnings',
  'decision',
  'threshold',
] as const) {
  @ApiProperty({
    enum: ['accept', 'review'],
    nullable: true,
    type: String,
    description: 'The decision given with the answer; null for predictions stored before decisions existed',
  })
  decision: 'accept' | 'review' | null;
  @ApiProperty({ nullable: true, type: Number, description: 'The threshold of that decision' })
  threshold: number | null;
  @ApiProperty() createdAt: string;
  @ApiProperty() designation: string;
  @ApiProperty({ nullable: true, type: String }) description: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'sha256 of the image sent, if any' })
  imageSha256: string | null;
}

export class CategoryDto {
  @ApiProperty({ example: 2583 }) prdtypecode: number;
  @ApiProperty({ example: 'Piscine et accessoires' }) name: string;
}
