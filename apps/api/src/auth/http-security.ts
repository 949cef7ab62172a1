import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { DocumentBuilder, SwaggerCustomOptions } from '@nestjs/swagger';
import helmet from 'helmet';
import { AppConfig } from '@app/config';

/**
 * HTTP hardening that is not a guard: proxy trust (so rate limits see the client's address behind a load
 * balancer), helmet's security headers, and CORS for the origins of CORS_ORIGINS (none by default).
 * Call before the app is initialised.
 */
export function applyHttpSecurity(app: INestApplication): void {
  const config = app.get(AppConfig);
  (app as NestExpressApplication).set('trust proxy', config.trustProxy);
  // No upgrade-insecure-requests: /docs must load its scripts when the API is reached over plain http (a cluster
  // address, localhost); TLS, when there is any, ends at the load balancer.
  app.use(helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } }));
  const origin = config.corsOrigins;
  if (origin) {
    app.enableCors({
      origin,
      methods: ['GET', 'POST', 'PATCH', 'DELETE'],
      allowedHeaders: ['Authorization', 'Content-Type'],
      exposedHeaders: ['Retry-After', 'WWW-Authenticate'],
      maxAge: 600,
    });
  }
}

/** The security schemes of the OpenAPI document: a bearer token (ours, OIDC or service) and the password flow. */
export function withSecuritySchemes(builder: DocumentBuilder): DocumentBuilder {
  return builder
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'JWT',
        description:
          'An access token from POST /v1/auth/token, a token from a configured OIDC issuer, or a service token',
      },
      'bearer',
    )
    .addOAuth2(
      {
        type: 'oauth2',
        description: 'Log in with a username and password (OAuth 2.0 password grant)',
        flows: { password: { tokenUrl: '/v1/auth/token', refreshUrl: '/v1/auth/token', scopes: {} } },
      },
      'password',
    );
}

/** Swagger UI keeps the token across page reloads, so /docs stays logged in. */
export const SWAGGER_UI_OPTIONS: SwaggerCustomOptions = { swaggerOptions: { persistAuthorization: true } };
