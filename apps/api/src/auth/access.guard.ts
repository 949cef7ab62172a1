import {
  CanActivate,
  ExecutionContext,
  ForbiddenException,
  Injectable,
  Logger,
  UnauthorizedException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ThrottlerException } from '@nestjs/throttler';
import type { Request, Response } from 'express';
import { AppConfig, type Role } from '@app/config';
import { ACCESS_RULE, type AccessRule } from './auth.decorators';
import { AuthMetrics } from './auth.metrics';
import { isAllowed, type Principal } from './principal.types';
import { RateLimiter } from './rate-limit.guard';
import { AuthenticationError, TokenVerifier } from './token-verifier.service';

/** `roles: 'any'`: any valid token. */
export type ResolvedAccess = { public: true } | { public: false; roles: readonly Role[] | 'any' };

const ADMIN_ONLY: ResolvedAccess = { public: false, roles: [] };

/** What a route's access rule means with this configuration (no rule: admin only). */
export function resolveAccessRule(rule: AccessRule | undefined, config: AppConfig): ResolvedAccess {
  if (!rule) return ADMIN_ONLY;
  switch (rule.kind) {
    case 'public':
      return { public: true };
    case 'public-unless-closed':
      return config.env[rule.setting] ? { public: true } : { public: false, roles: ['monitoring'] };
    case 'roles':
      return { public: false, roles: rule.roles };
    case 'authenticated':
      return { public: false, roles: 'any' };
  }
}

/**
 * The global guard: every route needs a valid token unless marked @Public() (or @PublicUnlessClosed() with its
 * setting open), and the token's roles must include one the route's @Roles() names (admin passes everywhere).
 * Routes without any marking are admin-only. Rate limits are counted here too, after authentication and before
 * the verdict, so that rejected requests count against their address.
 * Answers 401 with a WWW-Authenticate: Bearer challenge (RFC 6750) or 403 for a missing role.
 */
@Injectable()
export class AccessGuard implements CanActivate {
  private readonly logger = new Logger('Auth');
  /** Per handler: its rule resolved once (metadata and settings do not change while the process runs). */
  private readonly rules = new WeakMap<object, ResolvedAccess>();
  private readonly realm: string;

  constructor(
    private readonly reflector: Reflector,
    private readonly config: AppConfig,
    private readonly verifier: TokenVerifier,
    private readonly rateLimiter: RateLimiter,
    private readonly metrics: AuthMetrics,
  ) {
    this.realm = config.env.JWT_ISSUER.replace(/"/g, '');
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const req = context.switchToHttp().getRequest<Request & { user?: Principal }>();
    const res = context.switchToHttp().getResponse<Response>();
    const rule = this.rule(context);
    let failure: unknown;
    if (!rule.public) {
      try {
        req.user = await this.verifier.authenticate(req, res);
      } catch (error) {
        failure = error;
      }
    }
    try {
      await this.rateLimiter.canActivate(context);
    } catch (error) {
      if (error instanceof ThrottlerException) this.metrics.rejections.inc({ reason: 'rate_limited' });
      throw error;
    }
    if (rule.public) return true;
    if (!req.user) throw this.unauthorized(res, failure);
    if (rule.roles !== 'any' && !isAllowed(req.user, rule.roles)) {
      this.metrics.rejections.inc({ reason: 'forbidden' });
      res.setHeader('WWW-Authenticate', `Bearer realm="${this.realm}", error="insufficient_scope"`);
      const needed = ['admin', ...rule.roles.filter((role) => role !== 'admin')].join(', ');
      throw new ForbiddenException(`this needs one of the roles: ${needed}`);
    }
    return true;
  }

  private unauthorized(res: Response, failure: unknown): UnauthorizedException {
    if (!(failure instanceof AuthenticationError)) {
      // Not the caller's fault (an unreachable JWKS endpoint, a database error): logged, still refused.
      this.logger.warn(`authentication failed: ${(failure as Error)?.message ?? String(failure)}`);
      failure = new AuthenticationError('the token could not be verified', 'invalid_token');
    }
    const { message, error } = failure as AuthenticationError;
    this.metrics.rejections.inc({ reason: error ?? 'missing_token' });
    const challenge = error
      ? `Bearer realm="${this.realm}", error="${error}", error_description="${message.replace(/["\\]/g, '')}"`
      : `Bearer realm="${this.realm}"`;
    res.setHeader('WWW-Authenticate', challenge);
    return new UnauthorizedException(message);
  }

  private rule(context: ExecutionContext): ResolvedAccess {
    const handler = context.getHandler();
    let resolved = this.rules.get(handler);
    if (!resolved) {
      const rule = this.reflector.getAllAndOverride<AccessRule | undefined>(ACCESS_RULE, [
        handler,
        context.getClass(),
      ]);
      resolved = resolveAccessRule(rule, this.config);
      this.rules.set(handler, resolved);
    }
    return resolved;
  }
}
