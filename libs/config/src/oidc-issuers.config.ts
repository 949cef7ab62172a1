import { isRole, ROLES, type Role } from './roles.constants';

/** Algorithms an external issuer may sign with: asymmetric only, so a public key can never act as an HMAC secret. */
export const OIDC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
] as const;
export type OidcAlgorithm = (typeof OIDC_ALGORITHMS)[number];

/** One external identity provider whose access tokens the API accepts (an AWS Cognito user pool, Keycloak, ...). */
export interface OidcIssuerSettings {
  /** Exactly the token's `iss` claim, e.g. https://cognito-idp.eu-west-3.amazonaws.com/eu-west-3_AbCdEf123. */
  issuer: string;
  /** Accepted `aud` values (for Cognito access tokens, which carry no `aud`, the `client_id` claim). */
  audience: string[];
  /** Where the signing keys are; unset: found through `<issuer>/.well-known/openid-configuration`. */
  jwksUri?: string;
  /** The claim holding group or role names, e.g. `cognito:groups`; a dotted path reaches nested claims. */
  rolesClaim: string;
  /** Claim value to role(s); unset: values that are role names count as those roles, others are ignored. */
  roleMap?: Record<string, Role[]>;
  /** The claim used as the principal's name in audit logs (default: the first of cognito:username, preferred_username, username, email, sub). */
  usernameClaim?: string;
  algorithms: OidcAlgorithm[];
  /** Cognito: require `token_use` to be `access` (or `id`). */
  tokenUse?: 'access' | 'id';
}

const KEYS = [
  'issuer',
  'audience',
  'jwksUri',
  'rolesClaim',
  'roleMap',
  'usernameClaim',
  'algorithms',
  'tokenUse',
];

/** http:// is accepted only for the local machine (tests and development); real issuers must use https://. */
function isAcceptableUrl(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  try {
    const url = new URL(value);
    if (url.protocol === 'https:') return true;
    return url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  } catch {
    return false;
  }
}

const nonEmptyStrings = (value: unknown): string[] | undefined => {
  const list = typeof value === 'string' ? [value] : value;
  return Array.isArray(list) && list.length > 0 && list.every((v) => typeof v === 'string' && v.trim() !== '')
    ? (list as string[])
    : undefined;
};

/**
 * Parses OIDC_ISSUERS: a JSON array of issuer objects. Returns the settings, or one readable problem per mistake.
 */
export function parseOidcIssuers(raw: string | undefined): {
  issuers: OidcIssuerSettings[];
  problems: string[];
} {
  if (raw === undefined || raw.trim() === '') return { issuers: [], problems: [] };
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (error) {
    return {
      issuers: [],
      problems: [`OIDC_ISSUERS must be a JSON array of issuer objects: ${(error as Error).message}`],
    };
  }
  if (!Array.isArray(parsed)) {
    return {
      issuers: [],
      problems: ['OIDC_ISSUERS must be a JSON array, e.g. [{"issuer":"https://…","audience":"…"}]'],
    };
  }
  const problems: string[] = [];
  const issuers: OidcIssuerSettings[] = [];
  parsed.forEach((entry: unknown, index) => {
    const at = `OIDC_ISSUERS[${index}]`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      problems.push(`${at} must be an object with at least issuer and audience`);
      return;
    }
    const e = entry as Record<string, unknown>;
    const own: string[] = [];
    for (const key of Object.keys(e)) {
      if (!KEYS.includes(key)) own.push(`${at}.${key} is not a known setting (known: ${KEYS.join(', ')})`);
    }
    if (!isAcceptableUrl(e.issuer)) {
      own.push(
        `${at}.issuer must be an https:// URL (http:// only for localhost), exactly the tokens' iss claim`,
      );
    }
    const audience = nonEmptyStrings(e.audience);
    if (!audience) {
      own.push(`${at}.audience is required: the client id or API identifier the tokens are issued for`);
    }
    if (e.jwksUri !== undefined && !isAcceptableUrl(e.jwksUri)) {
      own.push(`${at}.jwksUri must be an https:// URL (http:// only for localhost)`);
    }
    if (e.rolesClaim !== undefined && (typeof e.rolesClaim !== 'string' || e.rolesClaim.trim() === '')) {
      own.push(`${at}.rolesClaim must be a claim name such as cognito:groups`);
    }
    if (e.usernameClaim !== undefined && (typeof e.usernameClaim !== 'string' || e.usernameClaim === '')) {
      own.push(`${at}.usernameClaim must be a claim name such as email`);
    }
    let roleMap: Record<string, Role[]> | undefined;
    if (e.roleMap !== undefined) {
      if (typeof e.roleMap !== 'object' || e.roleMap === null || Array.isArray(e.roleMap)) {
        own.push(`${at}.roleMap must be an object from claim value to role, e.g. {"ops": "admin"}`);
      } else {
        roleMap = {};
        for (const [value, mapped] of Object.entries(e.roleMap)) {
          const roles = nonEmptyStrings(mapped);
          if (!roles || !roles.every(isRole)) {
            own.push(`${at}.roleMap.${value} must be one of ${ROLES.join(', ')} (or a list of them)`);
          } else {
            roleMap[value] = roles as Role[];
          }
        }
      }
    }
    const algorithms = e.algorithms === undefined ? ['RS256', 'ES256'] : nonEmptyStrings(e.algorithms);
    if (!algorithms || !algorithms.every((a) => (OIDC_ALGORITHMS as readonly string[]).includes(a))) {
      own.push(`${at}.algorithms must list asymmetric algorithms among ${OIDC_ALGORITHMS.join(', ')}`);
    }
    if (e.tokenUse !== undefined && e.tokenUse !== 'access' && e.tokenUse !== 'id') {
      own.push(`${at}.tokenUse must be access or id`);
    }
    if (issuers.some((i) => i.issuer === e.issuer))
      own.push(`${at}.issuer ${String(e.issuer)} is listed twice`);
    problems.push(...own);
    if (own.length === 0) {
      issuers.push({
        issuer: e.issuer as string,
        audience: audience as string[],
        jwksUri: e.jwksUri as string | undefined,
        rolesClaim: (e.rolesClaim as string | undefined) ?? 'roles',
        roleMap,
        usernameClaim: e.usernameClaim as string | undefined,
        algorithms: algorithms as OidcAlgorithm[],
        tokenUse: e.tokenUse as 'access' | 'id' | undefined,
      });
    }
  });
  return { issuers, problems };
}
