import type { Role } from '@app/config';

/** Who is calling: a user of ours, a service token, or someone vouched for by an external OIDC issuer. */
export interface Principal {
  kind: 'user' | 'service' | 'oidc';
  /** Stable id: the user id, the service token id, or `<issuer>#<sub>`. */
  id: string;
  /** For audit logs: the username, the service token name, or the external username claim. */
  name: string;
  roles: readonly Role[];
}

/** `admin` may do everything; other principals need one of the roles a route names. */
export function isAllowed(principal: Principal, roles: readonly Role[]): boolean {
  return principal.roles.includes('admin') || roles.some((role) => principal.roles.includes(role));
}
