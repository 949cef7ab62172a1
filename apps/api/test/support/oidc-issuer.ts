import { generateKeyPairSync, KeyObject, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sign, type Algorithm } from 'jsonwebtoken';

interface SigningKey {
  kid: string;
  alg: 'RS256' | 'ES256';
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export function newSigningKey(alg: 'RS256' | 'ES256' = 'RS256'): SigningKey {
  const { privateKey, publicKey } =
    alg === 'RS256'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { kid: randomUUID(), alg, privateKey, publicKey };
}

/**
 * A local OpenID provider for tests: serves /.well-known/openid-configuration and a JWKS whose keys can be rotated,
 * and signs tokens. `issuer` is http://127.0.0.1:<port>/<path>.
 */
export class TestOidcIssuer {
  /** The keys the JWKS publishes. */
  published: SigningKey[];
  jwksRequests = 0;
  issuer = '';
  jwksUri = '';
  private server?: Server;

  constructor(
    private readonly path: string,
    readonly current: { key: SigningKey } = { key: newSigningKey() },
  ) {
    this.published = [current.key];
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (req.url === `/${this.path}/.well-known/openid-configuration`) {
        return send(200, { issuer: this.issuer, jwks_uri: this.jwksUri });
      }
      if (req.url === `/${this.path}/jwks.json`) {
        this.jwksRequests += 1;
        return send(200, {
          keys: this.published.map((key) => ({
            ...key.publicKey.export({ format: 'jwk' }),
            kid: key.kid,
            alg: key.alg,
            use: 'sig',
          })),
        });
      }
      send(404, { error: 'not found' });
    });
    await new Promise<void>((done) => this.server!.listen(0, '127.0.0.1', done));
    const { port } = this.server.address() as AddressInfo;
    this.issuer = `http://127.0.0.1:${port}/${this.path}`;
    this.jwksUri = `${this.issuer}/jwks.json`;
    return this;
  }

  /** Publishes a new key and signs with it from now on; the old one stays published unless `dropOld`. */
  rotate(dropOld = false): SigningKey {
    const key = newSigningKey(this.current.key.alg);
    this.published = dropOld ? [key] : [...this.published, key];
    this.current.key = key;
    return key;
  }

  /** A token signed with the current key (or `key`), with sensible claims that `claims` overrides. */
  token(claims: Record<string, unknown> = {}, options: { key?: SigningKey; kid?: string } = {}): string {
    const key = options.key ?? this.current.key;
    const now = Math.floor(Date.now() / 1000);
    const payload: Record<string, unknown> = {
      iss: this.issuer,
      sub: randomUUID(),
      iat: now,
      exp: now + 300,
      ...claims,
    };
    for (const name of Object.keys(payload)) if (payload[name] === undefined) delete payload[name];
    return sign(payload, key.privateKey, { algorithm: key.alg as Algorithm, keyid: options.kid ?? key.kid });
  }

  async stop(): Promise<void> {
    await new Promise<void>((done) => this.server?.close(() => done()) ?? done());
  }
}
