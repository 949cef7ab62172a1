import { ApiProperty } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { ArrayMinSize, IsArray, IsInt, IsUUID, ValidateNested } from 'class-validator';
import { PRODUCT_TYPE_CODES } from '@app/ml';

const CODES = `one of the 27 product type codes (${PRODUCT_TYPE_CODES.join(', ')})`;

export class FeedbackRequestDto {
  @ApiProperty({ description: `The true product type code: ${CODES}`, example: 2583 })
  @IsInt({ message: `prdtypecode must be ${CODES}` })
  prdtypecode: number;
}

export class FeedbackBatchItemDto extends FeedbackRequestDto {
  @ApiProperty({ format: 'uuid', description: 'The id a prediction answer carried' })
  @IsUUID('all', { message: 'predictionId must be a prediction id (a UUID)' })
  // Stored ids are lower case; a UUID means the same in any case.
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.toLowerCase() : value))
  predictionId: string;
}

export class FeedbackBatchRequestDto {
  @ApiProperty({ type: [FeedbackBatchItemDto], description: 'At most FEEDBACK_BATCH_LIMIT labels' })
  @ArrayMinSize(1, { message: 'items must hold at least one label' })
  @IsArray({ message: 'items must be an array of {predictionId, prdtypecode}' })
  @ValidateNested({ each: true })
  @Type(() => FeedbackBatchItemDto)
  items: FeedbackBatchItemDto[];
}

export class FeedbackDto {
  @ApiProperty({ format: 'uuid' }) predictionId: string;
  @ApiProperty({ example: 2583, description: 'The true code, as labelled' }) prdtypecode: number;
  @ApiProperty({ example: 2585, description: 'What the model answered' }) predictedPrdtypecode: number;
  @ApiProperty({ description: 'Whether the model was right' }) correct: boolean;
  @ApiProperty({ example: 'v4', description: 'The version that served the prediction' }) modelVersion: string;
  @ApiProperty({
    enum: ['created', 'unchanged', 'overwritten'],
    description: 'created: first label; unchanged: the same label again; overwritten: an admin replaced it',
  })
  result: string;
  @ApiProperty({ nullable: true, type: String }) reportedBy: string | null;
  @ApiProperty() labelledAt: Date;
}

export class FeedbackBatchItemResultDto {
  @ApiProperty({ description: 'Position in items' }) index: number;
  @ApiProperty({ format: 'uuid' }) predictionId: string;
  @ApiProperty({ description: 'What the single-label route would have answered: 201, 200, 400, 404 or 409' })
  status: number;
  @ApiProperty({ required: false, enum: ['created', 'unchanged', 'overwritten'] }) result?: string;
  @ApiProperty({ required: false, description: 'Why the label was not stored' }) error?: string;
}

export class FeedbackBatchResultDto {
  @ApiProperty({ type: [FeedbackBatchItemResultDto] }) items: FeedbackBatchItemResultDto[];
  @ApiProperty({
    description: 'Counts by result: created, unchanged, overwritten, rejected',
    example: { created: 2, unchanged: 0, overwritten: 0, rejected: 1 },
  })
  summary: Record<string, number>;
}
