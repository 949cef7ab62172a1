import request from 'supertest';
import { newSigningKey, TestOidcIssuer } from './support/oidc-issuer';
import { startTestApi, type TestApi } from './support/test-api';

/**
 * External identity providers: a Cognito-like user pool (found by OpenID discovery, RS256, groups mapped to
 * roles, access tokens without aud) and a second issuer signing ES256 with role names in a nested claim.
 */
describe('OIDC issuers with a local JWKS server (e2e)', () => {
  let api: TestApi;
  let pool: TestOidcIssuer;
  let realm: TestOidcIssuer;
  const CLIENT_ID = '5abc123clientid';

  const me = (token: string) => request(api.http).get('/v1/auth/me').set('Authorization', `Bearer ${token}`);
  /** A Cognito access token: client_id instead of aud, token_use, cognito:groups and cognito:username. */
  const cognito = (claims: Record<string, unknown> = {}, options = {}) =>
    pool.token(
      {
        client_id: CLIENT_ID,
        token_use: 'access',
        'cognito:groups': ['mlops-engineers'],
        'cognito:username': 'carol',
        ...claims,
      },
      options,
    );

  beforeAll(async () => {
    pool = await new TestOidcIssuer('eu-west-3_AbCdEf123').start();
    realm = await new TestOidcIssuer('realms/ml', { key: newSigningKey('ES256') }).start();
    api = await startTestApi({
      OIDC_ISSUERS: JSON.stringify([
        {
          issuer: pool.issuer,
          audience: CLIENT_ID,
          rolesClaim: 'cognito:groups',
          roleMap: {
            'mlops-admins': 'admin',
            'mlops-engineers': ['ml-engineer', 'client'],
            shoppers: 'client',
          },
          tokenUse: 'access',
        },
        {
          issuer: realm.issuer,
          audience: ['classifier', 'other'],
          jwksUri: realm.jwksUri,
          rolesClaim: 'realm_access.roles',
          usernameClaim: 'email',
        },
      ]),
    });
  });

  afterAll(async () => {
    await api?.app.close();
    await pool?.stop();
    await realm?.stop();
  });

  it('accepts a Cognito access token, mapping its groups to roles', async () => {
    const res = await me(cognito()).expect(200);
    expect(res.body).toEqual({
      kind: 'oidc',
      id: expect.stringMatching(new RegExp(`^${pool.issuer}#`)),
      name: 'carol',
      roles: ['ml-engineer', 'client'],
    });
    const token = cognito();
    await request(api.http).get('/v1/promotions').set('Authorization', `Bearer ${token}`).expect(200);
    await request(api.http).get('/v1/users').set('Authorization', `Bearer ${token}`).expect(403);
    const admin = cognito({ 'cognito:groups': ['mlops-admins'] });
    await request(api.http).get('/v1/users').set('Authorization', `Bearer ${admin}`).expect(200);
  });

  it('gives no role for unmapped groups: authenticated, but refused everywhere else', async () => {
    const token = cognito({ 'cognito:groups': ['interns'] });
    expect((await me(token).expect(200)).body.roles).toEqual([]);
    await request(api.http).get('/v1/categories').set('Authorization', `Bearer ${token}`).expect(403);
  });

  it.each([
    ['another app client', { client_id: 'someone-else' }],
    [
      'an id token where access tokens are required',
      { token_use: 'id', aud: CLIENT_ID, client_id: undefined },
    ],
    ['no subject', { sub: undefined }],
    ['no expiry', { exp: undefined }],
    ['an expiry beyond the allowed skew', { exp: Math.floor(Date.now() / 1000) - 120 }],
    ['another issuer in iss', { iss: 'https://cognito-idp.eu-west-3.amazonaws.com/eu-west-3_Other' }],
  ])('refuses a token with %s', async (_case, claims) => {
    await me(cognito(claims)).expect(401);
  });

  it('refuses a token signed by a key the issuer does not publish, even under a published kid', async () => {
    const stranger = newSigningKey();
    await me(cognito({}, { key: stranger, kid: pool.current.key.kid })).expect(401);
    await me(cognito({}, { key: stranger })).expect(401);
  });

  it('follows a key rotation: a token signed with a new key fetches the JWKS again', async () => {
    await me(cognito()).expect(200);
    const before = pool.jwksRequests;
    const old = pool.current.key;
    pool.rotate(true);
    await me(cognito()).expect(200);
    expect(pool.jwksRequests).toBe(before + 1);
    // The next tokens with the new key come from the cache.
    await me(cognito()).expect(200);
    expect(pool.jwksRequests).toBe(before + 1);
    // A key that was already known stays trusted until OIDC_JWKS_CACHE_SECONDS runs out.
    await me(cognito({}, { key: old })).expect(200);
  });

  it('accepts ES256 from the second issuer, with roles from a nested claim and a chosen username claim', async () => {
    const token = realm.token({
      aud: 'other',
      realm_access: { roles: ['admin'] },
      email: 'dora@example.com',
    });
    expect((await me(token).expect(200)).body).toMatchObject({ name: 'dora@example.com', roles: ['admin'] });
    await me(realm.token({ aud: 'nope', realm_access: { roles: ['admin'] } })).expect(401);
  });

  it('does not let one issuer sign for another', async () => {
    // Signed by the realm's key, claiming the pool as issuer: the pool's JWKS has no such key.
    const forged = realm.token({ iss: pool.issuer, client_id: CLIENT_ID, token_use: 'access' });
    await me(forged).expect(401);
  });
});
