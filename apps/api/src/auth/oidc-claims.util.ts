import { isRole, type OidcIssuerSettings, type Role } from '@app/config';
import type { Principal } from './principal.types';

const USERNAME_CLAIMS = ['cognito:username', 'preferred_username', 'username', 'email', 'sub'];

/** A claim by its exact name (`cognito:groups`, `https://example.com/roles`), else by dotted path (`realm_access.roles`). */
export function claimAt(payload: Record<string, unknown>, name: string): unknown {
  if (name in payload) return payload[name];
  let value: unknown = payload;
  for (const part of name.split('.')) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

function claimValues(value: unknown): string[] {
  if (typeof value === 'string') return value.split(/[\s,]+/).filter((v) => v !== '');
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

/** The roles an external token grants: mapped through roleMap, or role names taken as they are. */
export function rolesFromClaims(settings: OidcIssuerSettings, payload: Record<string, unknown>): Role[] {
  const values = claimValues(claimAt(payload, settings.rolesClaim));
  const roles = settings.roleMap
    ? values.flatMap((value) => settings.roleMap?.[value] ?? [])
    : values.filter(isRole);
  return [...new Set(roles)];
}

/**
 * Checks what jsonwebtoken does not (an expiry is required, the audience is matched per issuer, Cognito's
 * token_use) and builds the principal. Returns a reason instead when the token must be refused.
 */
export function oidcPrincipal(
  settings: OidcIssuerSettings,
  payload: Record<string, unknown>,
): Principal | { refused: string } {
  if (typeof payload.exp !== 'number') return { refused: 'the token has no expiry' };
  if (typeof payload.sub !== 'string' || payload.sub === '') return { refused: 'the token has no subject' };
  const audiences = claimValues(payload.aud);
  // Cognito access tokens carry the app client id in client_id and have no aud.
  if (typeof payload.client_id === 'string' && payload.aud === undefined) audiences.push(payload.client_id);
  if (!audiences.some((aud) => settings.audience.includes(aud))) return { refused: 'wrong audience' };
  if (settings.tokenUse && payload.token_use !== settings.tokenUse) {
    return { refused: `token_use must be ${settings.tokenUse}` };
  }
  const names = settings.usernameClaim ? [settings.usernameClaim] : USERNAME_CLAIMS;
  const name = names.map((claim) => claimAt(payload, claim)).find((v) => typeof v === 'string' && v !== '');
  return {
    kind: 'oidc',
    id: `${settings.issuer}#${payload.sub}`,
    name: String(name ?? payload.sub).slice(0, 128),
    roles: rolesFromClaims(settings, payload),
  };
}
