import request from 'supertest';
import { UserAccounts } from '@app/accounts';
import { startTestApi, TEST_ADMIN, type TestApi } from './support/test-api';

/** The admins of a fresh test API: the boot-time admin and the test-admin behind as('admin'). */
describe('the last enabled admin (e2e)', () => {
  let api: TestApi;
  const patch = (username: string, body: Record<string, unknown>) =>
    api.as('admin').patch(`/v1/users/${username}`).send(body);

  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(() => api?.app.close());

  it('cannot disable or demote itself over HTTP: 409 with a message, and nothing changes', async () => {
    await patch(TEST_ADMIN.username, { disabled: true }).expect(200);
    const disabled = await patch('test-admin', { disabled: true }).expect(409);
    expect(disabled.body).toMatchObject({
      statusCode: 409,
      message:
        '"test-admin" is the last enabled admin and cannot be disabled: give another user the admin role first',
    });
    const demoted = await patch('test-admin', { roles: ['client'], password: 'a password never set' }).expect(
      409,
    );
    expect(demoted.body.message).toMatch(/last enabled admin and cannot be demoted/);
    expect(
      await api.app.get(UserAccounts).authenticate('test-admin', 'a password never set'),
    ).toBeUndefined();
    const me = await api.as('admin').get('/v1/users').expect(200);
    expect(me.body).toContainEqual(
      expect.objectContaining({ username: 'test-admin', roles: ['admin'], disabled: false }),
    );
  });

  it('lets one of two admins disabling each other at once succeed, never both', async () => {
    await patch(TEST_ADMIN.username, { disabled: false }).expect(200);
    const login = await request(api.http)
      .post('/v1/auth/token')
      .type('form')
      .send({ grant_type: 'password', ...TEST_ADMIN })
      .expect(200);
    const [byTestAdmin, byAdmin] = await Promise.all([
      patch(TEST_ADMIN.username, { disabled: true }),
      request(api.http)
        .patch('/v1/users/test-admin')
        .set('Authorization', `Bearer ${login.body.access_token}`)
        .send({ disabled: true }),
    ]);
    const statuses = [byTestAdmin.status, byAdmin.status];
    expect(statuses.filter((status) => status === 200)).toHaveLength(1);
    // The loser is refused by the check (409), or by the guard when the winner disabled it first (401).
    expect([[409], [401]]).toContainEqual(statuses.filter((status) => status !== 200));
    expect(await api.app.get(UserAccounts).hasEnabledAdmin()).toBe(true);
  });
});
