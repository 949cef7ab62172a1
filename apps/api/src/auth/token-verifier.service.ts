import { Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Algorithm } from 'jsonwebtoken';
import { Passport } from 'passport';
import { Strategy as JwtStrategy, type StrategyOptionsWithoutRequest } from 'passport-jwt';
import { AppConfig, isRole } from '@app/config';
import { tokenHash } from '@app/accounts';
import { AuthState } from './auth-state.service';
import { OidcIssuerKeys } from './oidc-keys.client';
import { oidcPrincipal } from './oidc-claims.util';
import type { Principal } from './principal.types';
import { SigningKey } from './signing-key.config';

/** Why a request is not authenticated; `error` is the RFC 6750 code (absent when no token was sent at all). */
export class AuthenticationError extends Error {
  constructor(
    message: string,
    readonly error?: 'invalid_token' | 'invalid_request',
  ) {
    super(message);
  }
}

interface IssuerEntry {
  strategy: string;
  algorithms: readonly string[];
}

const BEARER = /^Bearer[ ]+([^\s]+)[ ]*$/i;
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** The bearer token of the request: undefined when there is none, null when the header is not a bearer token. */
export function bearerToken(req: Request): string | undefined | null {
  const header = req.headers.authorization;
  if (header === undefined || header === '') return undefined;
  return BEARER.exec(header)?.[1] ?? null;
}

/** Header and payload of a JWT, decoded without checking anything: only to choose how to verify it. */
export function peekJwt(token: string): { alg: unknown; kid: unknown; iss: unknown } | undefined {
  if (!JWT_SHAPE.test(token)) return undefined;
  const [header, payload] = token.split('.', 2).map((part) => {
    try {
      const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
      return typeof value === 'object' && value !== null && !Array.isArray(value)
        ? (value as Record<string, unknown>)
        : undefined;
    } catch {
      return undefined;
    }
  });
  if (!header || !payload) return undefined;
  return { alg: header.alg, kid: header.kid, iss: payload.iss };
}

/** jsonwebtoken's messages, shortened to what a caller may read (no expected values). */
function describe(info: unknown): string {
  if (!(info instanceof Error)) return 'invalid token';
  if (info.name === 'TokenExpiredError') return 'the token expired';
  if (info.name === 'NotBeforeError') return 'the token is not valid yet';
  const message = info.message.replace(/^jwt /, '').split('. expected')[0];
  return /signature|malformed|algorithm|audience|issuer|subject|key|kid|jwks|expiry|disabled|token|role/i.test(
    message,
  )
    ? message
    : 'invalid token';
}

/**
 * Authenticates a request from its bearer token. JWTs are routed by their (unverified) `iss` to the one
 * passport-jwt strategy that may verify them: HS256 with JWT_SECRET for our own tokens, the issuer's JWKS keys
 * with its asymmetric algorithms for each OIDC issuer. The algorithm in the token header must be on that
 * strategy's allow-list before any key is touched, so `none`, and an HS256 token "signed" with an RSA public key,
 * never reach a verifier. Anything that is not a JWT is looked up as a service token.
 */
@Injectable()
export class TokenVerifier {
  /** Our own Passport instance: several apps in one process (tests) never share strategies. */
  private readonly passport = new Passport();
  private readonly issuers = new Map<string, IssuerEntry>();

  constructor(
    config: AppConfig,
    signingKey: SigningKey,
    private readonly state: AuthState,
  ) {
    const { JWT_ISSUER, JWT_AUDIENCE, JWT_CLOCK_SKEW_SECONDS, OIDC_JWKS_CACHE_SECONDS } = config.env;
    const common = {
      jwtFromRequest: (req: Request) => bearerToken(req) ?? null,
      jsonWebTokenOptions: { clockTolerance: JWT_CLOCK_SKEW_SECONDS },
    };

    const local: StrategyOptionsWithoutRequest = {
      ...common,
      // A KeyObject: jsonwebtoken then skips trying to parse the secret as a PEM key on every request.
      secretOrKeyProvider: (_req, _token, done) => done(null, signingKey.key as unknown as Buffer),
      algorithms: ['HS256'],
      issuer: JWT_ISSUER,
      audience: JWT_AUDIENCE,
    };
    this.register(JWT_ISSUER, ['HS256'], local, (payload) => this.localPrincipal(payload));

    config.oidcIssuers.forEach((settings) => {
      const keys = new OidcIssuerKeys(settings, OIDC_JWKS_CACHE_SECONDS);
      const options: StrategyOptionsWithoutRequest = {
        ...common,
        secretOrKeyProvider: (_req, token: string, done) => {
          const kid = peekJwt(token)?.kid;
          keys.key(typeof kid === 'string' ? kid : undefined).then(
            (key) => done(null, key as unknown as Buffer),
            (error: Error) => done(error),
          );
        },
        algorithms: settings.algorithms as Algorithm[],
        issuer: settings.issuer,
        // The audience is checked per issuer in oidcPrincipal (Cognito access tokens carry client_id, not aud).
      };
      this.register(settings.issuer, settings.algorithms, options, (payload) =>
        oidcPrincipal(settings, payload),
      );
    });
  }

  /** The principal behind the request's bearer token, or an AuthenticationError. */
  async authenticate(req: Request, res: Response): Promise<Principal> {
    const token = bearerToken(req);
    if (token === undefined) throw new AuthenticationError('a bearer token is required');
    if (token === null) {
      throw new AuthenticationError('the Authorization header must be "Bearer <token>"', 'invalid_request');
    }
    const peeked = peekJwt(token);
    if (!peeked) {
      if (token.split('.').length === 3) throw new AuthenticationError('malformed token', 'invalid_token');
      const principal = await this.state.serviceToken(tokenHash(token));
      if (!principal) throw new AuthenticationError('unknown, revoked or expired token', 'invalid_token');
      return principal;
    }
    const issuer = typeof peeked.iss === 'string' ? this.issuers.get(peeked.iss) : undefined;
    if (!issuer) throw new AuthenticationError('the token issuer is not trusted', 'invalid_token');
    if (typeof peeked.alg !== 'string' || !issuer.algorithms.includes(peeked.alg)) {
      throw new AuthenticationError('the token algorithm is not allowed for its issuer', 'invalid_token');
    }
    return new Promise<Principal>((resolve, reject) => {
      const callback = (error: unknown, user: Principal | false, info: unknown) => {
        if (error) reject(error instanceof Error ? error : new Error(String(error)));
        else if (!user) reject(new AuthenticationError(describe(info), 'invalid_token'));
        else resolve(user);
      };
      this.passport.authenticate(issuer.strategy, { session: false }, callback)(req, res, reject);
    });
  }

  private register(
    issuer: string,
    algorithms: readonly string[],
    options: StrategyOptionsWithoutRequest,
    toPrincipal: (payload: Record<string, unknown>) => Principal | { refused: string },
  ): void {
    const strategy = `jwt:${this.issuers.size}`;
    this.passport.use(
      strategy,
      new JwtStrategy(options, (payload: Record<string, unknown>, done) => {
        const principal = toPrincipal(payload);
        if ('refused' in principal) done(null, false, new Error(principal.refused));
        else done(null, principal);
      }),
    );
    this.issuers.set(issuer, { strategy, algorithms });
  }

  private localPrincipal(payload: Record<string, unknown>): Principal | { refused: string } {
    const { sub, roles, exp, preferred_username: name } = payload;
    if (typeof exp !== 'number') return { refused: 'the token has no expiry' };
    if (typeof sub !== 'string' || !Array.isArray(roles) || typeof name !== 'string') {
      return { refused: 'the token lacks sub, roles or preferred_username' };
    }
    if (this.state.isDisabled(sub)) return { refused: 'the user is disabled' };
    return { kind: 'user', id: sub, name, roles: roles.filter(isRole) };
  }
}
