import { Module } from '@nestjs/common';
import { APP_GUARD, Reflector } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { AppConfig } from '@app/config';
import { UserAccounts } from '../users/user-accounts';
import { UsersController } from '../users/users.controller';
import { AccessGuard } from './access.guard';
import { AccessTokens } from './access-tokens';
import { AuthBootstrapService } from './auth-bootstrap.service';
import { AuthMetrics } from './auth.metrics';
import { AuthState } from './auth-state';
import { LoginAttempts } from './login-attempts';
import { MemoryRateLimitStorage, RedisRateLimitStorage, type RateLimitStorage } from './rate-limit.storage';
import { RateLimiter } from './rate-limiter';
import { RefreshTokens } from './refresh-tokens';
import { ServiceTokens } from './service-tokens';
import { SigningKey } from './signing-key';
import { TokenController } from './token.controller';
import { TokenVerifier } from './token-verifier';

const RATE_LIMIT_STORAGE = Symbol('RATE_LIMIT_STORAGE');

/**
 * Authentication and authorization for every route: the global AccessGuard (tokens, roles, rate limits), the
 * token endpoint, user and service-token management, and the boot-time admin. Import once, in AppModule.
 */
@Module({
  controllers: [TokenController, UsersController],
  providers: [
    {
      provide: SigningKey,
      inject: [AppConfig],
      useFactory: (config: AppConfig) => SigningKey.fromConfig(config),
    },
    {
      provide: UserAccounts,
      inject: [DataSource, AppConfig],
      useFactory: (dataSource: DataSource, config: AppConfig) =>
        new UserAccounts(dataSource, config.env.BCRYPT_COST),
    },
    {
      provide: ServiceTokens,
      inject: [DataSource],
      useFactory: (dataSource: DataSource) => new ServiceTokens(dataSource),
    },
    {
      provide: RefreshTokens,
      inject: [DataSource, AppConfig],
      useFactory: (dataSource: DataSource, config: AppConfig) =>
        new RefreshTokens(dataSource, config.env.REFRESH_TOKEN_TTL_DAYS),
    },
    { provide: LoginAttempts, useFactory: () => new LoginAttempts() },
    {
      provide: RATE_LIMIT_STORAGE,
      inject: [AppConfig],
      useFactory: (config: AppConfig): RateLimitStorage =>
        config.env.REDIS_URL ? new RedisRateLimitStorage(config.env.REDIS_URL) : new MemoryRateLimitStorage(),
    },
    {
      provide: RateLimiter,
      inject: [AppConfig, RATE_LIMIT_STORAGE, Reflector],
      useFactory: (config: AppConfig, storage: RateLimitStorage, reflector: Reflector) =>
        new RateLimiter(RateLimiter.options(config, storage, reflector), storage, reflector),
    },
    AccessTokens,
    AuthMetrics,
    AuthState,
    TokenVerifier,
    AuthBootstrapService,
    { provide: APP_GUARD, useClass: AccessGuard },
  ],
  exports: [UserAccounts, ServiceTokens, AccessTokens, RefreshTokens, AuthState],
})
export class AuthModule {}
