import type { INestApplication } from '@nestjs/common';
import { METHOD_METADATA } from '@nestjs/common/constants';
import { ModulesContainer } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { DocumentBuilder, OpenAPIObject, SwaggerCustomOptions } from '@nestjs/swagger';
import helmet from 'helmet';
import { AppConfig } from '@app/config';
import { resolveAccessRule } from './access.guard';
import { ACCESS_RULE, type AccessRule } from './auth.decorators';

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

const BEARER = 'bearer';
const PASSWORD_FLOW = 'password';

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
      BEARER,
    )
    .addOAuth2(
      {
        type: 'oauth2',
        description: 'Log in with a username and password (OAuth 2.0 password grant)',
        flows: { password: { tokenUrl: '/v1/auth/token', refreshUrl: '/v1/auth/token', scopes: {} } },
      },
      PASSWORD_FLOW,
    );
}

/**
 * Each operation's security, from the access rule the AccessGuard applies to its route: `[]` on the routes that
 * need no token (the token endpoint, the probes while PUBLIC_HEALTH is true), the bearer token or the password
 * flow on the others. Operations are found by the id Nest gives them: `<Controller>_<method>`.
 */
export function withOperationSecurity(app: INestApplication, document: OpenAPIObject): OpenAPIObject {
  const config = app.get(AppConfig);
  const open = new Map<string, boolean>();
  for (const module of app.get(ModulesContainer).values()) {
    for (const { metatype } of module.controllers.values()) {
      const controller = metatype as unknown as { name: string; prototype: Record<string, unknown> };
      for (const name of Object.getOwnPropertyNames(controller.prototype)) {
        const handler = controller.prototype[name];
        if (typeof handler !== 'function' || Reflect.getMetadata(METHOD_METADATA, handler) === undefined)
          continue;
        const rule: AccessRule | undefined =
          Reflect.getMetadata(ACCESS_RULE, handler) ?? Reflect.getMetadata(ACCESS_RULE, controller);
        open.set(`${controller.name}_${name}`, resolveAccessRule(rule, config).public);
      }
    }
  }
  for (const operations of Object.values(document.paths)) {
    for (const operation of Object.values(operations)) {
      const id = (operation as { operationId?: string }).operationId;
      if (id === undefined || !open.has(id)) continue;
      (operation as { security?: unknown }).security = open.get(id)
        ? []
        : [{ [BEARER]: [] }, { [PASSWORD_FLOW]: [] }];
    }
  }
  return document;
}

/** Swagger UI keeps the token across page reloads, so /docs stays logged in. */
export const SWAGGER_UI_OPTIONS: SwaggerCustomOptions = { swaggerOptions: { persistAuthorization: true } };
