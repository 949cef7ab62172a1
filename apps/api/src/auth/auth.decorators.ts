import { applyDecorators, createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import type { Role } from '@app/config';
import { ApiErrors, ERROR_MEANING } from '../common/api-errors.decorator';
import type { Principal } from './principal.types';

export const ACCESS_RULE = 'auth:access';

/**
 * How a route is protected. Routes without a rule are admin-only: a route someone forgets to annotate is closed
 * rather than open.
 */
export type AccessRule =
  | { kind: 'public' }
  /** Public while the named setting (PUBLIC_HEALTH, PUBLIC_METRICS) is true; else the `monitoring` role. */
  | { kind: 'public-unless-closed'; setting: 'PUBLIC_HEALTH' | 'PUBLIC_METRICS' }
  | { kind: 'roles'; roles: readonly Role[] }
  /** Any valid token. */
  | { kind: 'authenticated' };

/** No token needed. */
export const Public = () => SetMetadata(ACCESS_RULE, { kind: 'public' } satisfies AccessRule);

const NO_VALID_TOKEN = 'No token, or an invalid, expired or revoked one (WWW-Authenticate says which)';

/** No token needed unless the setting closes the route; then a token with the `monitoring` role (or admin). */
export const PublicUnlessClosed = (setting: 'PUBLIC_HEALTH' | 'PUBLIC_METRICS') =>
  applyDecorators(
    SetMetadata(ACCESS_RULE, { kind: 'public-unless-closed', setting } satisfies AccessRule),
    ApiErrors({
      401: `Only with ${setting}=false: ${NO_VALID_TOKEN}`,
      403: `Only with ${setting}=false: needs one of the roles: admin, monitoring`,
      429: ERROR_MEANING.rateLimited,
    }),
  );

/** A valid token with one of these roles (admin always passes); OpenAPI shows it (withOperationSecurity). */
export const Roles = (...roles: Role[]) =>
  applyDecorators(
    SetMetadata(ACCESS_RULE, { kind: 'roles', roles } satisfies AccessRule),
    ApiErrors({
      401: NO_VALID_TOKEN,
      403: `Needs one of the roles: ${[...new Set(['admin', ...roles])].join(', ')}`,
      429: ERROR_MEANING.rateLimited,
    }),
  );

/** Any valid token, whatever its roles (even none). */
export const Authenticated = () =>
  applyDecorators(
    SetMetadata(ACCESS_RULE, { kind: 'authenticated' } satisfies AccessRule),
    ApiErrors({ 401: NO_VALID_TOKEN, 429: ERROR_MEANING.rateLimited }),
  );

/** The authenticated principal of the request (undefined on public routes). */
export const CurrentPrincipal = createParamDecorator(
  (_data: unknown, context: ExecutionContext): Principal | undefined =>
    context.switchToHttp().getRequest<{ user?: Principal }>().user,
);
