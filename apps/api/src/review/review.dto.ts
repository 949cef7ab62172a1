import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsOptional } from 'class-validator';
import { PRODUCT_TYPE_CODES } from '@app/ml';
import { SKIP_REASONS, type SkipReason } from '@app/review';

const CODES = `one of the 27 product type codes (${PRODUCT_TYPE_CODES.join(', ')})`;

export class ReviewDecisionRequestDto {
  @ApiPropertyOptional({
    description: `The true product type code: ${CODES}. Give this or skip.`,
    example: 2583,
  })
  @IsOptional()
  @IsInt({ message: `prdtypecode must be ${CODES}` })
  prdtypecode?: number;

  @ApiPropertyOptional({
    enum: SKIP_REASONS,
    description:
      'Pass on the listing, saying why (counted per reason in the stats). Give this or prdtypecode.',
  })
  @IsOptional()
  @IsIn(SKIP_REASONS, { message: `skip must be one of: ${SKIP_REASONS.join(', ')}` })
  skip?: SkipReason;
}

export class ReviewClassDto {
  @ApiProperty({ example: 2583 }) prdtypecode: number;
  @ApiProperty({ example: 'Piscine et accessoires' }) category: string;
  @ApiProperty({ example: 0.41, description: 'Calibrated probability' }) probability: number;
}

export class ReviewItemDto {
  @ApiProperty({ format: 'uuid', description: 'The prediction id' }) id: string;
  @ApiProperty({ example: 'v4' }) modelVersion: string;
  @ApiProperty() predictedAt: Date;
  @ApiProperty({
    enum: ['review', 'audit'],
    description:
      'review: the model was not sure enough; audit: drawn at random (its label feeds the live F1)',
  })
  reason: string;
  @ApiProperty({ example: 1, description: 'The probability this prediction entered the queue' })
  samplingProbability: number;
  @ApiProperty({ example: 0.04, description: 'Top probability minus the second (small: unsure)' })
  margin: number;
  @ApiProperty({ description: 'The title, as the merchant wrote it' }) designation: string;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Merchant HTML, untrusted: show it as text or through a sanitiser, never as markup',
  })
  description: string | null;
  @ApiProperty({ description: 'Whether GET /v1/review/{id}/image has a photo' }) hasImage: boolean;
  @ApiProperty({ example: 2583, description: 'What the model answered' }) prdtypecode: number;
  @ApiProperty({ type: [ReviewClassDto], description: 'The three most probable classes' })
  top: ReviewClassDto[];
  @ApiProperty({ description: 'The listing is yours until then (REVIEW_LEASE_SECONDS)' }) leaseUntil: Date;
  @ApiProperty({ description: 'Waiting listings with a near-duplicate title, labelled along with this one' })
  duplicates: number;
}

export class ReviewNextDto {
  @ApiProperty({ type: ReviewItemDto, nullable: true, description: 'Null when the queue is empty' })
  item: ReviewItemDto | null;
}

export class ReviewDecisionDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ enum: ['labelled', 'skipped'] }) status: string;
  @ApiPropertyOptional({ example: 2583 }) prdtypecode?: number;
  @ApiPropertyOptional({
    enum: ['created', 'unchanged', 'overwritten'],
    description: 'As for any feedback: first label, the same again, or an admin replaced it',
  })
  result?: string;
  @ApiPropertyOptional({ enum: ['review', 'audit'], description: 'The source the label is stored with' })
  source?: string;
  @ApiPropertyOptional({ description: 'Near-duplicate listings given the same label' }) collapsed?: number;
  @ApiPropertyOptional({ enum: SKIP_REASONS }) skip?: string;
}

export class ReviewStatsDto {
  @ApiProperty({ description: 'Start of the day (UTC) the "today" counts run from' }) since: Date;
  @ApiProperty({ description: 'Listings waiting, leased or not' }) left: number;
  @ApiProperty({ example: { review: 120, audit: 4 } }) leftByReason: Record<string, number>;
  @ApiProperty({ description: 'Listings held by a reviewer right now' }) leased: number;
  @ApiProperty({ description: 'Labels given today by everyone (near-duplicates included)' })
  labelledToday: number;
  @ApiProperty({ description: 'Of those, by the caller' }) labelledTodayByYou: number;
  @ApiProperty({ description: 'Of those, near-duplicates labelled along with another listing' })
  collapsedToday: number;
  @ApiProperty() skippedToday: number;
  @ApiProperty({ example: { unsure: 2 } }) skippedTodayByReason: Record<string, number>;
}

export class ReviewCategoryDto {
  @ApiProperty({ example: 2583 }) prdtypecode: number;
  @ApiProperty({ example: 'Piscine et accessoires' }) name: string;
}
