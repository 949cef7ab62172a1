import { trainFixtureModel } from '@app/ml/testing';
import { createHmac, randomUUID } from 'node:crypto';
import { sign } from 'jsonwebtoken';
import request from 'supertest';
import type { Role } from '@app/config';
import { ServiceTokens, UserAccounts } from '@app/accounts';
import { AccessTokens } from '../src/auth/access-tokens.service';
import { AuthState } from '../src/auth/auth-state.service';
import { TestOidcIssuer } from './support/oidc-issuer';
import { startTestApi, TEST_JWT_SECRET, type TestApi } from './support/test-api';

type Access = 'public' | readonly Role[];

/**
 * Who may call what: the contract this suite holds the API to. Every route the API serves must be listed (docs
 * aside), so a new route cannot ship without a decision about who may call it.
 */
const ACCESS: Record<string, Access> = {
  'POST /v1/auth/token': 'public',
  'GET /v1/auth/me': ['admin', 'ml-engineer', 'client', 'alertmanager', 'monitoring', 'reviewer'],
  'GET /v1/users': ['admin'],
  'POST /v1/users': ['admin'],
  'PATCH /v1/users/:username': ['admin'],
  'GET /v1/service-tokens': ['admin'],
  'POST /v1/service-tokens': ['admin'],
  'DELETE /v1/service-tokens/:name': ['admin'],
  'GET /health/live': 'public',
  'GET /health/ready': 'public',
  'GET /metrics': 'public',
  'POST /v1/predictions': ['client'],
  'POST /v1/predictions/batch': ['client'],
  'GET /v1/predictions/:id': ['client', 'ml-engineer'],
  'GET /v1/categories': ['client'],
  'GET /v1/models': ['client', 'ml-engineer'],
  'GET /v1/models/:version': ['ml-engineer'],
  'POST /v1/models/:version/promote': ['ml-engineer'],
  'POST /v1/models/rollback': ['admin'],
  'GET /v1/promotions': ['ml-engineer'],
  'POST /v1/retraining-jobs': ['ml-engineer'],
  'GET /v1/retraining-jobs': ['ml-engineer'],
  'GET /v1/retraining-jobs/:id': ['ml-engineer'],
  'POST /v1/retraining-jobs/:id/cancel': ['ml-engineer'],
  'POST /v1/predictions/:id/feedback': ['client', 'ml-engineer'],
  'POST /v1/feedback/batch': ['ml-engineer'],
  'GET /v1/monitoring/live': ['ml-engineer', 'monitoring'],
  'GET /v1/monitoring/drift': ['ml-engineer', 'monitoring'],
  'POST /v1/webhooks/alertmanager': ['alertmanager'],
  'GET /v1/review/next': ['reviewer'],
  'GET /v1/review/stats': ['reviewer'],
  'GET /v1/review/categories': ['reviewer'],
  'GET /v1/review/:id/image': ['reviewer'],
  'POST /v1/review/:id': ['reviewer'],
  'GET /review': 'public',
  'GET /review/:file': 'public',
};

const PARAMS: Record<string, string> = {
  ':id': '0b8f3a34-6f7c-4d8e-9a4b-1c2d3e4f5a6b',
  ':version': 'v999',
  ':username': 'test-client',
  ':name': 'no-such-token',
  ':file': 'review.js',
};

const PROTECTED = Object.entries(ACCESS).filter(([, access]) => access !== 'public') as [string, Role[]][];
const PRINCIPALS: Role[] = ['admin', 'ml-engineer', 'client', 'alertmanager', 'monitoring', 'reviewer'];
const AUDIENCE = 'classifier-client';

/** Routes the app really serves, as "METHOD /path", without Swagger's. */
function servedRoutes(api: TestApi): string[] {
  const router = (api.app.getHttpAdapter().getInstance() as { router: { stack: { route?: Route }[] } })
    .router;
  type Route = { path: string; methods: Record<string, boolean> };
  return router.stack
    .map((layer) => layer.route)
    .filter((route): route is Route => route !== undefined && !route.path.startsWith('/docs'))
    .flatMap((route) => Object.keys(route.methods).map((method) => `${method.toUpperCase()} ${route.path}`));
}

function call(api: TestApi, route: string, authorization?: string) {
  const [method, template] = route.split(' ');
  const path = template.replace(/:\w+/g, (param) => PARAMS[param]);
  const agent = request(api.http);
  const req =
    method === 'GET'
      ? agent.get(path)
      : method === 'POST'
        ? agent.post(path).send({})
        : method === 'PATCH'
          ? agent.patch(path).send({})
          : agent.delete(path);
  return authorization === undefined ? req : req.set('Authorization', authorization);
}

describe('access control over every route (e2e)', () => {
  let api: TestApi;
  let idp: TestOidcIssuer;
  const bearer: Record<string, string> = {};

  const ours = (claims: Record<string, unknown>, secret: string | Buffer = TEST_JWT_SECRET) => {
    const now = Math.floor(Date.now() / 1000);
    const payload: Record<string, unknown> = {
      iss: 'product-classifier',
      aud: 'product-classifier-api',
      sub: randomUUID(),
      roles: ['admin'],
      preferred_username: 'mallory',
      iat: now,
      exp: now + 300,
      ...claims,
    };
    for (const key of Object.keys(payload)) if (payload[key] === undefined) delete payload[key];
    return sign(payload, secret, { algorithm: 'HS256' });
  };
  const unsigned = (claims: Record<string, unknown>) =>
    [
      { alg: 'none', typ: 'JWT' },
      { exp: Math.floor(Date.now() / 1000) + 300, sub: 'x', roles: ['admin'], ...claims },
    ]
      .map((part) => Buffer.from(JSON.stringify(part)).toString('base64url'))
      .join('.') + '.';

  /** Requests that must never get through, by what is wrong with them. */
  const BAD: [string, () => string | undefined][] = [
    ['no token', () => undefined],
    ['an empty bearer', () => 'Bearer '],
    ['a Basic header', () => 'Basic YWRtaW46YWRtaW4='],
    ['a malformed JWT', () => 'Bearer not.a.jwt'],
    ['a JWT with a broken payload', () => `Bearer ${bearer.admin.split('.')[0]}.e30x.abc`],
    ['an unknown opaque token', () => 'Bearer pcs_thisisnotarealservicetokenatall0123456789'],
    ['an expired token', () => `Bearer ${ours({ exp: Math.floor(Date.now() / 1000) - 120 })}`],
    ['a token without expiry', () => `Bearer ${ours({ exp: undefined })}`],
    ['a token of another issuer', () => `Bearer ${ours({ iss: 'https://evil.example.com' })}`],
    ['a token for another audience', () => `Bearer ${ours({ aud: 'another-api' })}`],
    [
      'a token signed with another secret',
      () => `Bearer ${ours({}, 'another-secret-of-at-least-32-characters!')}`,
    ],
    ['a token with a tampered payload', () => `Bearer ${tamper(bearer.client, { roles: ['admin'] })}`],
    [
      'alg none claiming our issuer',
      () => `Bearer ${unsigned({ iss: 'product-classifier', aud: 'product-classifier-api' })}`,
    ],
    ['alg none claiming the OIDC issuer', () => `Bearer ${unsigned({ iss: idp.issuer, aud: AUDIENCE })}`],
    [
      'HS256 signed with the OIDC public key, claiming the OIDC issuer',
      () => `Bearer ${hsWithPublicKey({ iss: idp.issuer, aud: AUDIENCE })}`,
    ],
    [
      'HS256 signed with the OIDC public key, claiming our issuer',
      () => `Bearer ${hsWithPublicKey({ iss: 'product-classifier', aud: 'product-classifier-api' })}`,
    ],
    [
      'RS256 from the OIDC key, claiming our issuer',
      () =>
        `Bearer ${idp.token({ iss: 'product-classifier', aud: 'product-classifier-api', roles: ['admin'] })}`,
    ],
    [
      'an OIDC token for another audience',
      () => `Bearer ${idp.token({ aud: 'someone-else', roles: ['admin'] })}`,
    ],
    ['an expired OIDC token', () => `Bearer ${idp.token({ aud: AUDIENCE, roles: ['admin'], exp: 1 })}`],
    ['a disabled user', () => bearer.disabled],
    ['a revoked service token', () => bearer.revoked],
  ];

  const hsWithPublicKey = (claims: Record<string, unknown>) => {
    const pem = idp.current.key.publicKey.export({ format: 'pem', type: 'spki' }).toString();
    const now = Math.floor(Date.now() / 1000);
    const header = Buffer.from(
      JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: idp.current.key.kid }),
    ).toString('base64url');
    const payload = Buffer.from(
      JSON.stringify({
        sub: 'x',
        roles: ['admin'],
        preferred_username: 'x',
        iat: now,
        exp: now + 300,
        ...claims,
      }),
    ).toString('base64url');
    // jsonwebtoken refuses to sign HS256 with a PEM key, which is the point: forge it by hand.
    const signature = createHmac('sha256', pem).update(`${header}.${payload}`).digest('base64url');
    return `${header}.${payload}.${signature}`;
  };

  beforeAll(async () => {
    idp = await new TestOidcIssuer('pool').start();
    api = await startTestApi({
      OIDC_ISSUERS: JSON.stringify([{ issuer: idp.issuer, audience: AUDIENCE, jwksUri: idp.jwksUri }]),
    });
    for (const role of ['admin', 'ml-engineer', 'client'] as const)
      bearer[role] = `Bearer ${api.tokenFor(role)}`;
    const serviceTokens = api.app.get(ServiceTokens);
    for (const role of ['alertmanager', 'monitoring'] as const) {
      const { token } = await serviceTokens.create({ name: `svc-${role}`, roles: [role], createdBy: 'test' });
      bearer[role] = `Bearer ${token}`;
    }
    const reviewer = await api.app
      .get(UserAccounts)
      .create({ username: 'test-reviewer', password: 'test-password-not-used', roles: ['reviewer'] });
    bearer.reviewer = `Bearer ${api.app.get(AccessTokens).issue({ id: reviewer.id, username: 'test-reviewer', roles: ['reviewer'] })}`;
    const revoked = await serviceTokens.create({ name: 'revoked', roles: ['admin'], createdBy: 'test' });
    bearer.revoked = `Bearer ${revoked.token}`;
    await request(api.http).get('/v1/auth/me').set('Authorization', bearer.revoked).expect(200);
    await api.as('admin').delete('/v1/service-tokens/revoked').expect(204);

    const users = api.app.get(UserAccounts);
    const user = await users.create({
      username: 'soon-disabled',
      password: 'a long password 1',
      roles: ['admin'],
    });
    bearer.disabled = `Bearer ${api.app.get(AccessTokens).issue({ ...user, roles: ['admin'] })}`;
    await request(api.http).get('/v1/auth/me').set('Authorization', bearer.disabled).expect(200);
    await api.as('admin').patch('/v1/users/soon-disabled').send({ disabled: true }).expect(200);
  });

  afterAll(async () => {
    await api?.app.close();
    await idp?.stop();
  });

  it('lists every route the API serves in the access table', () => {
    const unlisted = servedRoutes(api).filter((route) => !(route in ACCESS));
    expect({ unlisted, hint: 'add new routes to ACCESS with the roles that may call them' }).toEqual({
      unlisted: [],
      hint: expect.any(String),
    });
    expect(servedRoutes(api).sort()).toEqual(Object.keys(ACCESS).sort());
  });

  describe.each(PROTECTED)('%s', (route, allowed) => {
    it.each(BAD)('refuses %s with 401 and a Bearer challenge', async (_case, authorization) => {
      const res = await call(api, route, authorization());
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="product-classifier"/);
      expect(res.body).toMatchObject({ statusCode: 401, message: expect.any(String) });
    });

    const refused = PRINCIPALS.filter((role) => !allowed.includes(role) && role !== 'admin');
    const admitted = PRINCIPALS.filter((role) => allowed.includes(role) || role === 'admin');

    if (refused.length > 0) {
      it.each(refused)('refuses the role %s with 403', async (role) => {
        const res = await call(api, route, bearer[role]);
        expect(res.status).toBe(403);
        expect(res.body.message).toMatch(/needs one of the roles: admin/);
      });
    }

    it.each(admitted)('lets the role %s through (no 401, 403 or 5xx)', async (role) => {
      const res = await call(api, route, bearer[role]);
      expect([401, 403]).not.toContain(res.status);
      expect(res.status).toBeLessThan(500);
    });
  });

  it('accepts a token from the OIDC issuer with the roles of its claim', async () => {
    const token = idp.token({ aud: AUDIENCE, roles: ['client', 'not-a-role'], preferred_username: 'olivia' });
    const me = await request(api.http).get('/v1/auth/me').set('Authorization', `Bearer ${token}`).expect(200);
    expect(me.body).toEqual({
      kind: 'oidc',
      id: expect.stringContaining(idp.issuer),
      name: 'olivia',
      roles: ['client'],
    });
    await request(api.http).get('/v1/categories').set('Authorization', `Bearer ${token}`).expect(200);
    await request(api.http).get('/v1/promotions').set('Authorization', `Bearer ${token}`).expect(403);
  });

  it('counts refusals by reason in /metrics', async () => {
    const metrics = (await request(api.http).get('/metrics').expect(200)).text;
    for (const reason of ['missing_token', 'invalid_token', 'invalid_request', 'forbidden']) {
      expect(metrics).toMatch(new RegExp(`auth_rejections_total\\{reason="${reason}"\\} [1-9]`));
    }
  });

  it('names the reason in the challenge without echoing expected values', async () => {
    const res = await call(api, 'GET /v1/categories', `Bearer ${ours({ aud: 'another-api' })}`).expect(401);
    expect(res.headers['www-authenticate']).toBe(
      'Bearer realm="product-classifier", error="invalid_token", error_description="audience invalid"',
    );
    const none = await call(api, 'GET /v1/categories').expect(401);
    expect(none.headers['www-authenticate']).toBe('Bearer realm="product-classifier"');
  });

  it('tolerates a bounded clock skew and no more', async () => {
    const now = Math.floor(Date.now() / 1000);
    await call(api, 'GET /v1/auth/me', `Bearer ${ours({ exp: now - 10 })}`).expect(200);
    await call(api, 'GET /v1/auth/me', `Bearer ${ours({ exp: now - 40 })}`).expect(401);
    await call(api, 'GET /v1/auth/me', `Bearer ${ours({ nbf: now + 10 })}`).expect(200);
    await call(api, 'GET /v1/auth/me', `Bearer ${ours({ nbf: now + 60 })}`).expect(401);
  });

  it('refuses a user disabled by another process once the auth state reloads', async () => {
    const users = api.app.get(UserAccounts);
    const user = await users.create({
      username: 'cli-disabled',
      password: 'a long password 2',
      roles: ['client'],
    });
    const token = `Bearer ${api.app.get(AccessTokens).issue({ ...user, roles: ['client'] })}`;
    await call(api, 'GET /v1/categories', token).expect(200);
    await users.setDisabled('cli-disabled', true); // what `npm run user -- disable` does, from outside the API
    await api.app.get(AuthState).reload(); // what the AUTH_CACHE_REFRESH_MS timer does
    await call(api, 'GET /v1/categories', token).expect(401);
  });

  it('records the authenticated principal as the actor of a promotion', async () => {
    const { version } = await api.registry.register(await trainFixtureModel(), {
      createdBy: 'test',
      source: 'test',
    });
    await api.as('ml-engineer').post(`/v1/models/${version}/promote`).send({ reason: 'first' }).expect(200);
    const history = await api.as('ml-engineer').get('/v1/promotions').expect(200);
    expect(history.body[0]).toMatchObject({ actor: 'test-ml-engineer', toVersion: version, reason: 'first' });
  });

  it('sets helmet security headers and no CORS headers by default', async () => {
    const res = await request(api.http)
      .get('/health/live')
      .set('Origin', 'https://app.example.com')
      .expect(200);
    expect(res.headers).toMatchObject({
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'SAMEORIGIN',
      'strict-transport-security': expect.stringContaining('max-age='),
    });
    expect(res.headers['content-security-policy']).toMatch(/script-src 'self'/);
    expect(res.headers['content-security-policy']).not.toMatch(/upgrade-insecure-requests/);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    expect(res.headers['x-powered-by']).toBeUndefined();
  });

  it('shows the security schemes in the OpenAPI document', async () => {
    const docs = await request(api.http).get('/docs-json').expect(200);
    expect(docs.body.components.securitySchemes).toEqual({
      bearer: expect.objectContaining({ type: 'http', scheme: 'bearer' }),
      password: expect.objectContaining({
        type: 'oauth2',
        flows: { password: expect.objectContaining({ tokenUrl: '/v1/auth/token' }) },
      }),
    });
    expect(docs.body.paths['/v1/predictions'].post.security).toEqual([{ bearer: [] }, { password: [] }]);
    // Public: says so (security: []), rather than leaving a client to guess.
    expect(docs.body.paths['/v1/auth/token'].post.security).toEqual([]);
    const ui = await request(api.http).get('/docs/swagger-ui-init.js').expect(200);
    expect(ui.text).toContain('"persistAuthorization": true');
  });
});

describe('closed health, metrics and docs; CORS (e2e)', () => {
  let api: TestApi;
  let monitoring: string;

  beforeAll(async () => {
    api = await startTestApi({
      PUBLIC_HEALTH: 'false',
      PUBLIC_METRICS: 'false',
      PUBLIC_DOCS: 'false',
      CORS_ORIGINS: 'https://app.example.com',
    });
    monitoring = (
      await api.app
        .get(ServiceTokens)
        .create({ name: 'prometheus', roles: ['monitoring'], createdBy: 'test' })
    ).token;
  });

  afterAll(() => api?.app.close());

  it('keeps liveness open for container health checks', async () => {
    await request(api.http).get('/health/live').expect(200);
  });

  it.each(['/health/ready', '/metrics'])('%s needs the monitoring role', async (path) => {
    await request(api.http).get(path).expect(401);
    await api.as('client').get(path).expect(403);
    const res = await request(api.http).get(path).set('Authorization', `Bearer ${monitoring}`);
    expect([200, 503]).toContain(res.status);
    const admin = await api.as('admin').get(path);
    expect([200, 503]).toContain(admin.status);
  });

  it('does not serve the docs at all', async () => {
    await request(api.http).get('/docs-json').expect(404);
    await request(api.http).get('/docs').expect(404);
  });

  it('answers CORS preflights for the configured origins only', async () => {
    const ok = await request(api.http)
      .options('/v1/predictions')
      .set('Origin', 'https://app.example.com')
      .set('Access-Control-Request-Method', 'POST')
      .set('Access-Control-Request-Headers', 'authorization,content-type');
    expect(ok.status).toBe(204);
    expect(ok.headers['access-control-allow-origin']).toBe('https://app.example.com');
    expect(ok.headers['access-control-allow-headers']).toMatch(/Authorization/);
    const other = await request(api.http)
      .options('/v1/predictions')
      .set('Origin', 'https://evil.example.com')
      .set('Access-Control-Request-Method', 'POST');
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });
});

/** The same JWT with claims changed and the original signature kept. */
function tamper(bearerValue: string, claims: Record<string, unknown>): string {
  const [header, payload, signature] = bearerValue.replace('Bearer ', '').split('.');
  const changed = { ...JSON.parse(Buffer.from(payload, 'base64url').toString()), ...claims };
  return `${header}.${Buffer.from(JSON.stringify(changed)).toString('base64url')}.${signature}`;
}
