import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { sign } from 'jsonwebtoken';
import { AppConfig, type Role } from '@app/config';
import { SigningKey } from './signing-key.config';

/** The claims of this service's access tokens beyond the registered ones (sub, iss, aud, exp, iat, jti). */
export interface AccessTokenClaims {
  roles: Role[];
  preferred_username: string;
}

/** Signs short-lived HS256 access tokens for our own users. */
@Injectable()
export class AccessTokens {
  constructor(
    private readonly config: AppConfig,
    private readonly signingKey: SigningKey,
  ) {}

  get lifetimeSeconds(): number {
    return this.config.env.JWT_ACCESS_TTL_SECONDS;
  }

  issue(user: { id: string; username: string; roles: readonly Role[] }): string {
    const claims: AccessTokenClaims = { roles: [...user.roles], preferred_username: user.username };
    return sign(claims, this.signingKey.key, {
      algorithm: 'HS256',
      subject: user.id,
      issuer: this.config.env.JWT_ISSUER,
      audience: this.config.env.JWT_AUDIENCE,
      expiresIn: this.lifetimeSeconds,
      jwtid: randomUUID(),
    });
  }
}
