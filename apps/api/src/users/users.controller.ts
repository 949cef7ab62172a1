import {
  BadRequestException,
  Body,
  ConflictException,
  Controller,
  Delete,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  Patch,
  Post,
} from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import {
  generatePassword,
  InvalidUserError,
  LastAdminError,
  ServiceTokenNameTakenError,
  ServiceTokenNotFoundError,
  ServiceTokens,
  type ServiceTokenView,
  UserAccounts,
  UsernameTakenError,
  UserNotFoundError,
  type UserView,
} from '@app/accounts';
import { Authenticated, CurrentPrincipal, Roles } from '../auth/auth.decorators';
import { AuthState } from '../auth/auth-state.service';
import type { Principal } from '../auth/principal.types';
import { ApiErrors, ERROR_MEANING } from '../common/api-errors.decorator';
import {
  CreatedServiceTokenDto,
  CreatedUserDto,
  CreateServiceTokenDto,
  CreateUserDto,
  ServiceTokenDto,
  PrincipalDto,
  UpdateUserDto,
  UserDto,
} from './users.dto';

/** Domain errors of user and token management as HTTP errors. */
async function http<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof InvalidUserError) throw new BadRequestException(error.message);
    if (error instanceof UserNotFoundError || error instanceof ServiceTokenNotFoundError) {
      throw new NotFoundException(error.message);
    }
    if (
      error instanceof UsernameTakenError ||
      error instanceof ServiceTokenNameTakenError ||
      error instanceof LastAdminError
    ) {
      throw new ConflictException(error.message);
    }
    throw error;
  }
}

@ApiTags('users')
@Controller('v1')
export class UsersController {
  constructor(
    private readonly users: UserAccounts,
    private readonly serviceTokens: ServiceTokens,
    private readonly state: AuthState,
  ) {}

  @Get('auth/me')
  @Authenticated()
  @ApiOperation({ summary: 'Who the token belongs to, and its roles' })
  @ApiOkResponse({ type: PrincipalDto })
  me(@CurrentPrincipal() principal: Principal): Principal {
    return principal;
  }

  @Get('users')
  @Roles('admin')
  @ApiOperation({ summary: 'Every user' })
  @ApiOkResponse({ type: [UserDto] })
  @ApiErrors({ 503: ERROR_MEANING.unavailable })
  list(): Promise<UserView[]> {
    return this.users.list();
  }

  @Post('users')
  @Roles('admin')
  @ApiOperation({ summary: 'Create a user' })
  @ApiCreatedResponse({ type: CreatedUserDto })
  @ApiErrors({
    400: `${ERROR_MEANING.badBody}; or the username or password does not follow the rules`,
    409: 'A user of that name exists',
    413: ERROR_MEANING.bodyTooLarge,
    503: ERROR_MEANING.unavailable,
  })
  create(@Body() body: CreateUserDto): Promise<CreatedUserDto> {
    return http(async () => {
      const password = body.password ?? generatePassword();
      const user = await this.users.create({ username: body.username, password, roles: body.roles });
      return body.password ? { user } : { user, password };
    });
  }

  @Patch('users/:username')
  @Roles('admin')
  @ApiOperation({
    summary: 'Change roles, disable or enable, or set a new password',
    description: 'All the changes or none; 409 when it would leave no enabled admin.',
  })
  @ApiOkResponse({ type: UserDto })
  @ApiErrors({
    400: `${ERROR_MEANING.badBody}; or the new password does not follow the rules`,
    404: 'No user of that name',
    413: ERROR_MEANING.bodyTooLarge,
    503: ERROR_MEANING.unavailable,
  })
  update(@Param('username') username: string, @Body() body: UpdateUserDto): Promise<UserView> {
    return http(async () => {
      const user = await this.users.update(username, body);
      if (body.disabled !== undefined) this.state.setDisabled(user.id, body.disabled);
      return user;
    });
  }

  @Get('service-tokens')
  @Roles('admin')
  @ApiOperation({ summary: 'Every service token (never their secrets)' })
  @ApiOkResponse({ type: [ServiceTokenDto] })
  @ApiErrors({ 503: ERROR_MEANING.unavailable })
  listServiceTokens(): Promise<ServiceTokenView[]> {
    return this.serviceTokens.list();
  }

  @Post('service-tokens')
  @Roles('admin')
  @ApiOperation({ summary: 'Create a long-lived token for a machine; the secret is shown once' })
  @ApiCreatedResponse({ type: CreatedServiceTokenDto })
  @ApiErrors({
    400: ERROR_MEANING.badBody,
    409: 'A service token of that name exists',
    413: ERROR_MEANING.bodyTooLarge,
    503: ERROR_MEANING.unavailable,
  })
  createServiceToken(
    @Body() body: CreateServiceTokenDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<CreatedServiceTokenDto> {
    return http(() =>
      this.serviceTokens.create({
        name: body.name,
        roles: body.roles,
        createdBy: principal.name,
        expiresAt: body.expiresInDays ? new Date(Date.now() + body.expiresInDays * 86_400_000) : null,
      }),
    );
  }

  @Delete('service-tokens/:name')
  @Roles('admin')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke a service token' })
  @ApiNoContentResponse({ description: 'Revoked' })
  @ApiErrors({ 404: 'No service token of that name', 503: ERROR_MEANING.unavailable })
  revokeServiceToken(@Param('name') name: string): Promise<void> {
    return http(async () => {
      const revoked = await this.serviceTokens.revoke(name);
      this.state.serviceTokenRevoked(revoked.id);
    });
  }
}
