import {
  BadRequestException,
  Body,
  Controller,
  Header,
  HttpCode,
  Logger,
  Post,
  SetMetadata,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiConsumes,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { isRole } from '@app/config';
import { ApiErrors, ERROR_MEANING } from '../common/api-errors.decorator';
import { InvalidRefreshTokenError, RefreshTokens, UserAccounts } from '@app/accounts';
import { AccessTokens } from './access-tokens.service';
import { Public } from './auth.decorators';
import { AuthMetrics } from './auth.metrics';
import { AuthState } from './auth-state.service';
import { LoginAttempts } from './login-attempts.service';
import { TOKEN_ENDPOINT } from './rate-limit.guard';
import { TokenErrorDto, TokenRequestDto, TokenResponseDto } from './token.dto';

type TokenError = 'invalid_request' | 'invalid_grant' | 'unsupported_grant_type';

/** An RFC 6749 section 5.2 error: 400 with {error, error_description}. */
function oauthError(error: TokenError, description: string): BadRequestException {
  return new BadRequestException({ error, error_description: description });
}

function field(body: Record<string, unknown>, name: string): string {
  const value = body[name];
  if (typeof value !== 'string' || value === '') {
    throw oauthError('invalid_request', `${name} is required (a non-empty string)`);
  }
  if (value.length > 4096) throw oauthError('invalid_request', `${name} is too long`);
  return value;
}

@ApiTags('auth')
@Controller('v1/auth')
export class TokenController {
  private readonly logger = new Logger('Auth');

  constructor(
    private readonly users: UserAccounts,
    private readonly accessTokens: AccessTokens,
    private readonly refreshTokens: RefreshTokens,
    private readonly state: AuthState,
    private readonly attempts: LoginAttempts,
    private readonly metrics: AuthMetrics,
  ) {}

  @Post('token')
  @Public()
  @SetMetadata(TOKEN_ENDPOINT, true)
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  @ApiOperation({
    summary: 'Get an access token (OAuth 2.0 password grant) or exchange a refresh token',
    description:
      'RFC 6749 token endpoint. Form-encoded as the RFC says, or JSON. A refresh token is single use: the answer ' +
      'carries the next one, and presenting a used one again revokes every token of that login.',
  })
  @ApiConsumes('application/x-www-form-urlencoded', 'application/json')
  @ApiBody({ type: TokenRequestDto })
  @ApiOkResponse({ type: TokenResponseDto })
  @ApiBadRequestResponse({
    type: TokenErrorDto,
    description: 'An RFC 6749 error: a missing field, a wrong password, a used refresh token, another grant',
  })
  @ApiErrors({
    413: ERROR_MEANING.bodyTooLarge,
    429:
      'TOKEN_RATE_LIMIT_PER_MINUTE or IP_RATE_LIMIT_PER_MINUTE exceeded for this address; Retry-After says ' +
      'how many seconds to wait',
    503: ERROR_MEANING.unavailable,
  })
  async token(@Body() raw: unknown): Promise<TokenResponseDto> {
    const grant = (raw as { grant_type?: unknown } | null)?.grant_type;
    const grantType = grant === 'password' || grant === 'refresh_token' ? grant : 'other';
    try {
      const answer = await this.grant(raw);
      this.metrics.tokenRequests.inc({ grant_type: grantType, result: 'issued' });
      return answer;
    } catch (error) {
      const code = ((error as BadRequestException).getResponse?.() as { error?: string } | undefined)?.error;
      this.metrics.tokenRequests.inc({ grant_type: grantType, result: code ?? 'error' });
      throw error;
    }
  }

  private async grant(raw: unknown): Promise<TokenResponseDto> {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      throw oauthError('invalid_request', 'send grant_type and its parameters as a form or a JSON object');
    }
    const body = raw as Record<string, unknown>;
    const grantType = field(body, 'grant_type');
    if (grantType === 'password') return this.passwordGrant(field(body, 'username'), field(body, 'password'));
    if (grantType === 'refresh_token') return this.refreshGrant(field(body, 'refresh_token'));
    throw oauthError('unsupported_grant_type', 'grant_type must be password or refresh_token');
  }

  private async passwordGrant(username: string, password: string): Promise<TokenResponseDto> {
    const user = await this.users.authenticate(username, password);
    if (!user) {
      await this.attempts.failed(username);
      throw oauthError('invalid_grant', 'wrong username or password, or the account is disabled');
    }
    this.attempts.succeeded(username);
    return this.answer(user, await this.refreshTokens.issue(user.id));
  }

  private async refreshGrant(refreshToken: string): Promise<TokenResponseDto> {
    let rotated: Awaited<ReturnType<RefreshTokens['rotate']>>;
    try {
      rotated = await this.refreshTokens.rotate(refreshToken);
    } catch (error) {
      if (!(error instanceof InvalidRefreshTokenError)) throw error;
      if (error.reuse) {
        this.metrics.refreshReuse.inc();
        this.logger.warn(`a used or revoked refresh token was presented again: its family is revoked`);
      }
      throw oauthError('invalid_grant', error.message);
    }
    const user = await this.users.findById(rotated.userId);
    if (!user || user.disabled) {
      await this.refreshTokens.revokeFamily(rotated.familyId);
      if (user) this.state.setDisabled(user.id, true);
      throw oauthError('invalid_grant', 'the account is disabled');
    }
    return this.answer(user, rotated.token);
  }

  private answer(
    user: { id: string; username: string; roles: string[] },
    refreshToken: string,
  ): TokenResponseDto {
    const roles = user.roles.filter(isRole);
    return {
      access_token: this.accessTokens.issue({ id: user.id, username: user.username, roles }),
      token_type: 'Bearer',
      expires_in: this.accessTokens.lifetimeSeconds,
      refresh_token: refreshToken,
    };
  }
}
