import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** The body of every error answer but the token endpoint's (RFC 6749) and readiness's (its checks). */
export class ErrorResponseDto {
  @ApiProperty({ description: 'The HTTP status, repeated', example: 400 })
  statusCode: number;

  @ApiPropertyOptional({ description: 'The name of the status', example: 'Bad Request' })
  error?: string;

  @ApiProperty({
    description: 'What is wrong, for a person to act on; a list when several fields of a body are invalid',
    oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
    example: ['topK must be a whole number between 1 and 27'],
  })
  message: string | string[];
}
