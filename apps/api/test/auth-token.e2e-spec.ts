import { decode } from 'jsonwebtoken';
import request from 'supertest';
import { ServiceTokens, UserAccounts } from '@app/accounts';
import { startTestApi, TEST_ADMIN, type TestApi } from './support/test-api';

const PASSWORD = 'correct horse battery staple';

describe('POST /v1/auth/token (e2e)', () => {
  let api: TestApi;

  const token = (fields: Record<string, string>) =>
    request(api.http).post('/v1/auth/token').type('form').send(fields);
  const login = (username = 'alice', password = PASSWORD) =>
    token({ grant_type: 'password', username, password });
  const refresh = (refreshToken: string) =>
    token({ grant_type: 'refresh_token', refresh_token: refreshToken });
  const bearer = (accessToken: string) => ({ Authorization: `Bearer ${accessToken}` });

  beforeAll(async () => {
    api = await startTestApi({ JWT_ACCESS_TTL_SECONDS: '600', TOKEN_RATE_LIMIT_PER_MINUTE: '0' });
    await api.app.get(UserAccounts).create({ username: 'alice', password: PASSWORD, roles: ['client'] });
  });

  afterAll(() => api?.app.close());

  it('issues an access token and a refresh token for a form-encoded password grant (RFC 6749 4.3)', async () => {
    const res = await login().expect(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers.pragma).toBe('no-cache');
    expect(res.body).toEqual({
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: 600,
      refresh_token: expect.stringMatching(/^rt_[A-Za-z0-9_-]{43}$/),
    });
    const claims = decode(res.body.access_token, { complete: true });
    expect(claims?.header).toMatchObject({ alg: 'HS256', typ: 'JWT' });
    expect(claims?.payload).toEqual({
      sub: expect.stringMatching(/^[0-9a-f-]{36}$/),
      roles: ['client'],
      preferred_username: 'alice',
      iss: 'product-classifier',
      aud: 'product-classifier-api',
      iat: expect.any(Number),
      exp: expect.any(Number),
      jti: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    const payload = claims?.payload as { iat: number; exp: number };
    expect(payload.exp - payload.iat).toBe(600);
    await request(api.http).get('/v1/categories').set(bearer(res.body.access_token)).expect(200);
    await request(api.http).get('/v1/promotions').set(bearer(res.body.access_token)).expect(403);
    expect((await api.app.get(UserAccounts).get('alice')).lastLoginAt).toBeInstanceOf(Date);
  });

  it('accepts JSON too, and usernames in any case', async () => {
    await request(api.http)
      .post('/v1/auth/token')
      .send({ grant_type: 'password', username: 'Alice', password: PASSWORD })
      .expect(200);
  });

  it('logs in the first admin from ADMIN_USERNAME/ADMIN_PASSWORD', async () => {
    const res = await login(TEST_ADMIN.username, TEST_ADMIN.password).expect(200);
    await request(api.http).get('/v1/users').set(bearer(res.body.access_token)).expect(200);
  });

  it.each([
    [
      'a wrong password',
      { grant_type: 'password', username: 'alice', password: 'wrong password!' },
      'invalid_grant',
    ],
    ['an unknown user', { grant_type: 'password', username: 'nobody', password: PASSWORD }, 'invalid_grant'],
    [
      'a username that cannot exist',
      { grant_type: 'password', username: 'no body', password: 'x' },
      'invalid_grant',
    ],
    ['no password', { grant_type: 'password', username: 'alice' }, 'invalid_request'],
    ['no grant type', { username: 'alice', password: PASSWORD }, 'invalid_request'],
    ['an unknown grant type', { grant_type: 'client_credentials' }, 'unsupported_grant_type'],
    ['an unknown refresh token', { grant_type: 'refresh_token', refresh_token: 'rt_nope' }, 'invalid_grant'],
    ['no refresh token', { grant_type: 'refresh_token' }, 'invalid_request'],
  ])('answers %s with 400 %s', async (_case, fields, error) => {
    const res = await token(fields as Record<string, string>).expect(400);
    expect(res.body).toEqual({ error, error_description: expect.any(String) });
  });

  it.each([
    ['a JSON array', '[1,2]', 'application/json'],
    [
      'JSON with non-string fields',
      '{"grant_type": "password", "username": 5, "password": true}',
      'application/json',
    ],
    ['a huge field', JSON.stringify({ grant_type: 'x'.repeat(5000) }), 'application/json'],
    ['an empty body', '', 'application/x-www-form-urlencoded'],
    ['broken JSON', '{"grant_type": ', 'application/json'],
  ])('answers %s with a 400, never a 500', async (_case, body, type) => {
    const res = await request(api.http).post('/v1/auth/token').set('Content-Type', type).send(body);
    expect(res.status).toBe(400);
  });

  it('rotates refresh tokens, and a reused one revokes its whole family', async () => {
    const first = (await login().expect(200)).body;
    const second = (await refresh(first.refresh_token).expect(200)).body;
    expect(second.refresh_token).not.toBe(first.refresh_token);
    await request(api.http).get('/v1/categories').set(bearer(second.access_token)).expect(200);
    const third = (await refresh(second.refresh_token).expect(200)).body;

    // The first token again: someone kept a copy. Its family (second and third included) is revoked.
    const reuse = await refresh(first.refresh_token).expect(400);
    expect(reuse.body).toEqual({
      error: 'invalid_grant',
      error_description: expect.stringMatching(/already used/),
    });
    await refresh(third.refresh_token).expect(400);

    const metrics = (await request(api.http).get('/metrics').expect(200)).text;
    expect(metrics).toMatch(/auth_refresh_token_reuse_total [1-9]/);
    expect(metrics).toMatch(
      /auth_token_requests_total\{grant_type="refresh_token",result="invalid_grant"\} [1-9]/,
    );
    expect(metrics).toMatch(/auth_token_requests_total\{grant_type="password",result="issued"\} [1-9]/);

    // Another login is another family, untouched.
    const other = (await login().expect(200)).body;
    await refresh(other.refresh_token).expect(200);
  });

  it('lets exactly one of two simultaneous refreshes with the same token win', async () => {
    const { refresh_token } = (await login().expect(200)).body;
    const answers = await Promise.all([refresh(refresh_token), refresh(refresh_token)]);
    expect(answers.map((res) => res.status).sort()).toEqual([200, 400]);
    const winner = answers.find((res) => res.status === 200)!;
    await refresh(winner.body.refresh_token).expect(400); // the family was revoked by the loser's reuse
  });

  it('refuses a disabled user at login and at refresh, and revokes their refresh tokens', async () => {
    const users = api.app.get(UserAccounts);
    await users.create({ username: 'bob', password: PASSWORD, roles: ['client'] });
    const { refresh_token, access_token } = (await login('bob').expect(200)).body;
    await api.as('admin').patch('/v1/users/bob').send({ disabled: true }).expect(200);
    await login('bob').expect(400);
    await refresh(refresh_token).expect(400);
    await request(api.http).get('/v1/categories').set(bearer(access_token)).expect(401);
    await api.as('admin').patch('/v1/users/bob').send({ disabled: false }).expect(200);
    await refresh(refresh_token).expect(400); // revoked when disabled
    await login('bob').expect(200);
  });

  it('revokes refresh tokens when the password is reset', async () => {
    const users = api.app.get(UserAccounts);
    await users.create({ username: 'carol', password: PASSWORD, roles: ['ml-engineer'] });
    const { refresh_token } = (await login('carol').expect(200)).body;
    await api.as('admin').patch('/v1/users/carol').send({ password: 'a brand new password' }).expect(200);
    await refresh(refresh_token).expect(400);
    await login('carol').expect(400);
    await login('carol', 'a brand new password').expect(200);
  });
});

describe('user and service token management (e2e)', () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await startTestApi({ ALERTMANAGER_WEBHOOK_TOKEN: 'alertmanager-secret-0123456789' });
  });

  afterAll(() => api?.app.close());

  it('lets an admin create users, with a generated password shown once', async () => {
    const created = await api
      .as('admin')
      .post('/v1/users')
      .send({ username: 'Dave', roles: ['client'] })
      .expect(201);
    expect(created.body).toEqual({
      user: expect.objectContaining({ username: 'dave', roles: ['client'], disabled: false }),
      password: expect.stringMatching(/^.{24}$/),
    });
    expect(JSON.stringify(created.body)).not.toMatch(/passwordHash|\$2[aby]\$/);
    await request(api.http)
      .post('/v1/auth/token')
      .send({ grant_type: 'password', username: 'dave', password: created.body.password })
      .expect(200);
    await api
      .as('admin')
      .post('/v1/users')
      .send({ username: 'dave', roles: ['client'] })
      .expect(409);
    await api
      .as('admin')
      .post('/v1/users')
      .send({ username: 'eve', roles: ['root'] })
      .expect(400);
    await api
      .as('admin')
      .post('/v1/users')
      .send({ username: 'eve', roles: ['client'], password: 'short' })
      .expect(400);
    await api
      .as('admin')
      .post('/v1/users')
      .send({ username: 'not valid!', roles: ['client'] })
      .expect(400);
    await api.as('admin').patch('/v1/users/nobody').send({ disabled: true }).expect(404);
    const list = await api.as('admin').get('/v1/users').expect(200);
    expect(list.body.map((u: { username: string }) => u.username)).toEqual(
      expect.arrayContaining(['admin', 'dave']),
    );
  });

  it('issues revocable service tokens scoped to roles', async () => {
    const created = await api
      .as('admin')
      .post('/v1/service-tokens')
      .send({ name: 'batch', roles: ['client'] })
      .expect(201);
    expect(created.body.token).toMatch(/^pcs_[A-Za-z0-9_-]{43}$/);
    expect(created.body.record).toMatchObject({ name: 'batch', roles: ['client'], createdBy: 'test-admin' });
    const auth = { Authorization: `Bearer ${created.body.token}` };
    const me = await request(api.http).get('/v1/auth/me').set(auth).expect(200);
    expect(me.body).toEqual({
      kind: 'service',
      id: created.body.record.id,
      name: 'batch',
      roles: ['client'],
    });
    await request(api.http).get('/v1/categories').set(auth).expect(200);
    await request(api.http).get('/v1/promotions').set(auth).expect(403);
    await api
      .as('admin')
      .post('/v1/service-tokens')
      .send({ name: 'batch', roles: ['client'] })
      .expect(409);
    await api.as('admin').delete('/v1/service-tokens/batch').expect(204);
    await request(api.http).get('/v1/categories').set(auth).expect(401);
    await api.as('admin').delete('/v1/service-tokens/batch').expect(404);
    // The name is free again once revoked.
    await api
      .as('admin')
      .post('/v1/service-tokens')
      .send({ name: 'batch', roles: ['client'] })
      .expect(201);
    const list = await api.as('admin').get('/v1/service-tokens').expect(200);
    expect(JSON.stringify(list.body)).not.toMatch(/tokenHash|pcs_/);
  });

  it('refuses an expired service token', async () => {
    const { token } = await api.app.get(ServiceTokens).create({
      name: 'expired',
      roles: ['client'],
      createdBy: 'test',
      expiresAt: new Date(Date.now() - 1000),
    });
    await request(api.http).get('/v1/categories').set('Authorization', `Bearer ${token}`).expect(401);
  });

  it('seeds the Alertmanager token from ALERTMANAGER_WEBHOOK_TOKEN with the alertmanager role only', async () => {
    const auth = { Authorization: 'Bearer alertmanager-secret-0123456789' };
    const me = await request(api.http).get('/v1/auth/me').set(auth).expect(200);
    expect(me.body).toMatchObject({ kind: 'service', name: 'alertmanager', roles: ['alertmanager'] });
    await request(api.http).get('/v1/categories').set(auth).expect(403);
  });

  it('rotates the Alertmanager token when ALERTMANAGER_WEBHOOK_TOKEN changes', async () => {
    const again = await startTestApi({
      VAR_DIR: api.varDir,
      ALERTMANAGER_WEBHOOK_TOKEN: 'the-new-alertmanager-secret',
    });
    try {
      await request(again.http)
        .get('/v1/auth/me')
        .set('Authorization', 'Bearer the-new-alertmanager-secret')
        .expect(200);
      await request(again.http)
        .get('/v1/auth/me')
        .set('Authorization', 'Bearer alertmanager-secret-0123456789')
        .expect(401);
    } finally {
      await again.app.close();
    }
  });
});

describe('rate limits (e2e)', () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await startTestApi({
      RATE_LIMIT_PER_MINUTE: '5',
      IP_RATE_LIMIT_PER_MINUTE: '12',
      TOKEN_RATE_LIMIT_PER_MINUTE: '3',
    });
  });

  afterAll(() => api?.app.close());

  it('limits each principal per minute, with Retry-After, without affecting others', async () => {
    for (let i = 0; i < 5; i++) await api.as('client').get('/v1/categories').expect(200);
    const limited = await api.as('client').get('/v1/categories').expect(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
    await api.as('ml-engineer').get('/v1/models').expect(200);
  });

  it('limits the token endpoint per address more strictly', async () => {
    const login = () =>
      request(api.http).post('/v1/auth/token').send({ grant_type: 'password', username: 'x', password: 'y' });
    for (let i = 0; i < 3; i++) expect((await login()).status).toBe(400);
    const limited = await login().expect(429);
    expect(limited.headers['retry-after']).toBeDefined();
  });

  it('limits every request per address, unauthenticated ones included', async () => {
    // 5 + 1 + 1 + 4 requests so far from this address: the 13th is over IP_RATE_LIMIT_PER_MINUTE.
    await request(api.http).get('/health/live').expect(200);
    const limited = await request(api.http).get('/v1/categories').expect(429);
    expect(limited.headers['retry-after']).toBeDefined();
  });
});
