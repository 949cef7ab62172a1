import { Module } from '@nestjs/common';
import { APP_GUARD, Reflector } from '@nestjs/core';
import { AppConfig } from '@app/config';
import { AccountsModule } from '@app/accounts';
import { UsersController } from '../users/users.controller';
import { AccessGuard } from './access.guard';
import { AccessTokens } from './access-tokens.service';
import { AuthBootstrapService } from './auth-bootstrap.service';
import { AuthMetrics } from './auth.metrics';
import { AuthState } from './auth-state.service';
import { LoginAttempts } from './login-attempts.service';
import { MemoryRateLimitStorage, RedisRateLimitStorage, type RateLimitStorage } from './rate-limit.storage';
import { RateLimiter } from './rate-limit.guard';
import { SigningKey } from './signing-key.config';
import { TokenController } from './token.controller';
import { TokenVerifier } from './token-verifier.service';

const RATE_LIMIT_STORAGE = Symbol('RATE_LIMIT_STORAGE');

/**
 * Authentication and authorization for every route: the global AccessGuard (tokens, roles, rate limits), the
 * token endpoint, user and service-token management, and the boot-time admin. Import once, in AppModule.
 */
@Module({
  imports: [AccountsModule],
  controllers: [TokenController, UsersController],
  providers: [
    {
      provide: SigningKey,
      inject: [AppConfig],
      useFactory: (config: AppConfig) => SigningKey.fromConfig(config),
    },
    { provide: LoginAttempts, useFactory: () => new LoginAttempts() },
    {
      provide: RATE_LIMIT_STORAGE,
      inject: [AppConfig],
      useFactory: (config: AppConfig): RateLimitStorage =>
        config.env.REDIS_URL
          ? new RedisRateLimitStorage(config.env.REDIS_URL, config.env.QUEUE_PREFIX)
          : new MemoryRateLimitStorage(),
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
  exports: [AccountsModule, AccessTokens, AuthState],
})
export class AuthModule {}
