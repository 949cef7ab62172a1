import { createPublicKey, KeyObject } from 'node:crypto';
import { JwksClient } from 'jwks-rsa';
import type { OidcIssuerSettings } from '@app/config';

const FETCH_TIMEOUT_MS = 5000;
/** jwks-rsa refetches the key set on an unknown kid at most this often: a flood of made-up kids cannot hammer the IdP. */
const JWKS_REQUESTS_PER_MINUTE = 10;

/**
 * The signing keys of one external issuer, from its JWKS (found through OpenID discovery unless jwksUri is set).
 * Keys are cached for OIDC_JWKS_CACHE_SECONDS; a token signed with a key id not seen yet makes jwks-rsa fetch the
 * key set again, so a key rotated in at the issuer is picked up at its first use.
 */
export class OidcIssuerKeys {
  private client?: Promise<JwksClient>;
  private readonly keys = new Map<string, { key: KeyObject; until: number }>();

  constructor(
    private readonly settings: OidcIssuerSettings,
    private readonly cacheSeconds: number,
  ) {}

  async key(kid: string | undefined): Promise<KeyObject> {
    const cacheKey = kid ?? '';
    const cached = this.keys.get(cacheKey);
    if (cached && cached.until > Date.now()) return cached.key;
    const client = await this.jwksClient();
    const signingKey = await client.getSigningKey(kid);
    const key = createPublicKey(signingKey.getPublicKey());
    this.keys.set(cacheKey, { key, until: Date.now() + this.cacheSeconds * 1000 });
    return key;
  }

  private jwksClient(): Promise<JwksClient> {
    this.client ??= this.jwksUri().then(
      (jwksUri) =>
        new JwksClient({
          jwksUri,
          cache: true,
          cacheMaxAge: this.cacheSeconds * 1000,
          rateLimit: true,
          jwksRequestsPerMinute: JWKS_REQUESTS_PER_MINUTE,
          timeout: FETCH_TIMEOUT_MS,
        }),
    );
    // A failed discovery is retried at the next token rather than remembered.
    this.client.catch(() => (this.client = undefined));
    return this.client;
  }

  private async jwksUri(): Promise<string> {
    if (this.settings.jwksUri) return this.settings.jwksUri;
    const url = `${this.settings.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    const response = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
    if (!response.ok) throw new Error(`OpenID discovery at ${url} answered ${response.status}`);
    const document = (await response.json()) as { issuer?: unknown; jwks_uri?: unknown };
    if (document.issuer !== this.settings.issuer) {
      throw new Error(`OpenID discovery at ${url} names another issuer: ${String(document.issuer)}`);
    }
    if (typeof document.jwks_uri !== 'string') throw new Error(`OpenID discovery at ${url} has no jwks_uri`);
    return document.jwks_uri;
  }
}
