import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** The form of POST /v1/auth/token (application/x-www-form-urlencoded, or the same fields as JSON). */
export class TokenRequestDto {
  @ApiProperty({ enum: ['password', 'refresh_token'] })
  grant_type: string;

  @ApiPropertyOptional({ description: 'grant_type=password', example: 'admin' })
  username?: string;

  @ApiPropertyOptional({ description: 'grant_type=password', format: 'password' })
  password?: string;

  @ApiPropertyOptional({ description: 'grant_type=refresh_token' })
  refresh_token?: string;
}

export class TokenResponseDto {
  @ApiProperty({ description: 'A JWT (HS256) to send as "Authorization: Bearer <access_token>"' })
  access_token: string;

  @ApiProperty({ example: 'Bearer' })
  token_type: 'Bearer';

  @ApiProperty({ description: 'Seconds until the access token expires', example: 900 })
  expires_in: number;

  @ApiProperty({ description: 'Single use: exchange it with grant_type=refresh_token for a new pair' })
  refresh_token: string;
}

export class TokenErrorDto {
  @ApiProperty({
    enum: ['invalid_request', 'invalid_grant', 'unsupported_grant_type'],
    description: 'RFC 6749 section 5.2',
  })
  error: string;

  @ApiProperty()
  error_description: string;
}
