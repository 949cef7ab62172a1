import { ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ThrottlerException, ThrottlerGuard, type ThrottlerModuleOptions } from '@nestjs/throttler';
import type { Response } from 'express';
import { AppConfig } from '@app/config';
import type { Principal } from './principal.types';
import type { RateLimitStorage } from './rate-limit.storage';

/** Metadata marking the token endpoint, which has its own, stricter limit. */
export const TOKEN_ENDPOINT = 'auth:token-endpoint';

const MINUTE_MS = 60_000;

interface ThrottlerLimitDetail {
  timeToBlockExpire: number;
}

/**
 * @nestjs/throttler with three fixed-window limits per minute (0 turns one off):
 * - `ip`: every request, by client address (IP_RATE_LIMIT_PER_MINUTE), counted before authentication so that a
 *   flood of bad tokens is limited too;
 * - `user`: authenticated requests, by principal (RATE_LIMIT_PER_MINUTE);
 * - `token`: POST /v1/auth/token, by address (TOKEN_RATE_LIMIT_PER_MINUTE).
 * Not a global guard itself: the access guard calls it after authentication, so the principal is known.
 */
@Injectable()
export class RateLimiter extends ThrottlerGuard {
  static options(config: AppConfig, storage: RateLimitStorage, reflector: Reflector): ThrottlerModuleOptions {
    const { RATE_LIMIT_PER_MINUTE: perUser, IP_RATE_LIMIT_PER_MINUTE: perIp } = config.env;
    const perToken = config.env.TOKEN_RATE_LIMIT_PER_MINUTE;
    const principal = (context: ExecutionContext) =>
      context.switchToHttp().getRequest<{ user?: Principal }>().user;
    const isTokenEndpoint = (context: ExecutionContext) =>
      reflector.get<boolean | undefined>(TOKEN_ENDPOINT, context.getHandler()) === true;
    return {
      storage,
      setHeaders: false,
      throttlers: [
        {
          name: 'ip',
          ttl: MINUTE_MS,
          limit: perIp,
          skipIf: () => perIp === 0,
          generateKey: (_context, tracker) => `ip:${tracker}`,
        },
        {
          name: 'user',
          ttl: MINUTE_MS,
          limit: perUser,
          skipIf: (context) => perUser === 0 || !principal(context),
          getTracker: (req) => (req.user as Principal).id,
          generateKey: (_context, tracker) => `user:${tracker}`,
        },
        {
          name: 'token',
          ttl: MINUTE_MS,
          limit: perToken,
          skipIf: (context) => perToken === 0 || !isTokenEndpoint(context),
          generateKey: (_context, tracker) => `token:${tracker}`,
        },
      ],
    };
  }

  /** Per handler: whether @Throttle()/@SkipThrottle() metadata is on it or its class (then the general path runs). */
  private readonly decorated = new WeakMap<object, boolean>();

  /**
   * The same checks as ThrottlerGuard, without its ~15 metadata lookups per request when no route-level throttler
   * decorator is present (the case of every route here): this guard runs on every request of the hot path.
   */
  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const handler = context.getHandler();
    let decorated = this.decorated.get(handler);
    if (decorated === undefined) {
      const keys = [...Reflect.getMetadataKeys(handler), ...Reflect.getMetadataKeys(context.getClass())];
      decorated = keys.some((key) => typeof key === 'string' && key.startsWith('THROTTLER:'));
      this.decorated.set(handler, decorated);
    }
    if (decorated) return super.canActivate(context);
    for (const throttler of this.throttlers) {
      if (throttler.skipIf?.(context)) continue;
      const ttl = throttler.ttl as number;
      await this.handleRequest({
        context,
        throttler,
        limit: throttler.limit as number,
        ttl,
        blockDuration: (throttler.blockDuration as number | undefined) ?? ttl,
        getTracker: throttler.getTracker ?? this.commonOptions.getTracker!,
        generateKey: throttler.generateKey ?? this.commonOptions.generateKey!,
      });
    }
    return true;
  }

  protected override async throwThrottlingException(
    context: ExecutionContext,
    detail: ThrottlerLimitDetail,
  ): Promise<void> {
    const retryAfter = Math.max(1, detail.timeToBlockExpire);
    context.switchToHttp().getResponse<Response>().setHeader('Retry-After', String(retryAfter));
    throw new ThrottlerException(`Too many requests: retry after ${retryAfter} s`);
  }
}
