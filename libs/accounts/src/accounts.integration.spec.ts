import { DataSource } from 'typeorm';
import { RefreshTokenEntity, UserEntity } from '@app/database';
import { openTestDatabase, TEST_DATABASES, type OpenTestDatabase } from '@app/database/testing';
import {
  InvalidRefreshTokenError,
  InvalidUserError,
  LastAdminError,
  RefreshTokens,
  ServiceTokenNameTakenError,
  ServiceTokens,
  tokenHash,
  UserAccounts,
  UsernameTakenError,
  UserNotFoundError,
} from '@app/accounts';

describe.each(TEST_DATABASES)('users and tokens on $name', (driver) => {
  let dataSource: DataSource;
  let db: OpenTestDatabase;
  let users: UserAccounts;
  let refreshTokens: RefreshTokens;
  let serviceTokens: ServiceTokens;

  beforeAll(async () => {
    db = await openTestDatabase(driver);
    dataSource = db.dataSource;
    users = new UserAccounts(dataSource, 4);
    refreshTokens = new RefreshTokens(dataSource, 1);
    serviceTokens = new ServiceTokens(dataSource);
  });
  afterAll(async () => {
    await db?.close();
  });

  describe('UserAccounts', () => {
    it('creates users with a bcrypt hash, lower-case names and checked roles', async () => {
      const alice = await users.create({
        username: ' Alice ',
        password: 'password of alice',
        roles: ['client'],
      });
      expect(alice).toEqual({
        id: expect.any(String),
        username: 'alice',
        roles: ['client'],
        disabled: false,
        createdAt: expect.any(Date),
        lastLoginAt: null,
      });
      const [{ password_hash: hash }] = await dataSource.query(
        `SELECT password_hash FROM users WHERE username = 'alice'`,
      );
      expect(hash).toMatch(/^\$2[aby]\$04\$/);
      await expect(
        users.create({ username: 'ALICE', password: 'another password', roles: ['client'] }),
      ).rejects.toThrow(UsernameTakenError);
    });

    it.each([
      [{ username: 'a b', password: 'long enough pw', roles: ['client'] }, /username/],
      [{ username: 'bob', password: 'short', roles: ['client'] }, /at least 12/],
      [{ username: 'bob', password: 'é'.repeat(40), roles: ['client'] }, /72 bytes/],
      [{ username: 'bob', password: 'long enough pw', roles: ['root'] }, /unknown role root/],
      [{ username: 'bob', password: 'long enough pw', roles: [] }, /at least one role/],
    ])('refuses %j', async (input, message) => {
      await expect(users.create(input)).rejects.toThrow(InvalidUserError);
      await expect(users.create(input)).rejects.toThrow(message);
    });

    it('authenticates with the right password only, and not once disabled', async () => {
      expect(await users.authenticate('ALICE', 'password of alice')).toMatchObject({
        username: 'alice',
        lastLoginAt: expect.any(Date),
      });
      expect(await users.authenticate('alice', 'wrong password')).toBeUndefined();
      expect(await users.authenticate('nobody', 'password of alice')).toBeUndefined();
      expect(await users.authenticate('not a name!', 'x')).toBeUndefined();
      await users.setDisabled('alice', true);
      expect(await users.authenticate('alice', 'password of alice')).toBeUndefined();
      expect(await users.disabledIds()).toEqual([(await users.get('alice')).id]);
      await users.setDisabled('alice', false);
      expect(await users.disabledIds()).toEqual([]);
      await expect(users.setDisabled('nobody', true)).rejects.toThrow(UserNotFoundError);
    });

    it('knows whether an enabled admin exists', async () => {
      expect(await users.hasEnabledAdmin()).toBe(false);
      await users.create({ username: 'root', password: 'password of root', roles: ['admin'] });
      expect(await users.hasEnabledAdmin()).toBe(true);
      // Only a hand-edited database gets here: UserAccounts refuses to disable the last admin.
      await dataSource.getRepository(UserEntity).update({ username: 'root' }, { disabled: true });
      expect(await users.hasEnabledAdmin()).toBe(false);
      await dataSource.getRepository(UserEntity).update({ username: 'root' }, { disabled: false });
    });

    it('never disables or demotes the last enabled admin, and applies an update whole or not at all', async () => {
      const before = await dataSource.getRepository(UserEntity).findOneByOrFail({ username: 'root' });
      await expect(users.setDisabled('root', true)).rejects.toThrow(LastAdminError);
      await expect(users.setRoles('root', ['client'])).rejects.toThrow(/last enabled admin .* demoted/);
      await expect(
        users.update('root', { password: 'a new password of root', roles: ['ml-engineer'] }),
      ).rejects.toThrow(LastAdminError);
      const after = await dataSource.getRepository(UserEntity).findOneByOrFail({ username: 'root' });
      expect(after).toEqual(before);
      // Another enabled admin makes it possible; a disabled one does not count.
      await users.create({ username: 'root2', password: 'password of root2', roles: ['admin', 'client'] });
      await users.setDisabled('root2', true);
      await expect(users.setDisabled('root', true)).rejects.toThrow(LastAdminError);
      await users.setDisabled('root2', false);
      expect((await users.setRoles('root', ['admin', 'client'])).roles).toEqual(['admin', 'client']);
      expect((await users.setDisabled('root', true)).disabled).toBe(true);
      await users.setDisabled('root', false);
    });

    it('lets only one of two admins disabling each other at the same moment succeed', async () => {
      for (let round = 0; round < 10; round++) {
        const results = await Promise.allSettled([
          users.setDisabled('root', true),
          users.setDisabled('root2', true),
        ]);
        expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
        expect((results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason).toBeInstanceOf(
          LastAdminError,
        );
        expect(await users.hasEnabledAdmin()).toBe(true);
        await users.setDisabled('root', false);
        await users.setDisabled('root2', false);
      }
    });

    it('resets passwords and changes roles', async () => {
      await users.resetPassword('alice', 'new password of alice');
      expect(await users.authenticate('alice', 'password of alice')).toBeUndefined();
      expect(await users.authenticate('alice', 'new password of alice')).toBeDefined();
      expect((await users.setRoles('alice', ['client', 'ml-engineer', 'client'])).roles).toEqual([
        'client',
        'ml-engineer',
      ]);
    });
  });

  describe('RefreshTokens', () => {
    let userId: string;
    beforeAll(async () => {
      userId = (await users.create({ username: 'rita', password: 'password of rita', roles: ['client'] })).id;
    });

    it('rotates a token once; a second use revokes the family', async () => {
      const first = await refreshTokens.issue(userId);
      const second = await refreshTokens.rotate(first);
      expect(second).toEqual({ userId, familyId: expect.any(String), token: expect.stringMatching(/^rt_/) });
      const third = await refreshTokens.rotate(second.token);
      expect(third.familyId).toBe(second.familyId);
      await expect(refreshTokens.rotate(first)).rejects.toThrow(/already used/);
      await expect(refreshTokens.rotate(third.token)).rejects.toThrow(/revoked/);
    });

    it('lets at most one of simultaneous rotations win, and no token of the family survives the reuse', async () => {
      // Repeated: the interleavings differ from one round to the next.
      for (let round = 0; round < 20; round++) {
        const token = await refreshTokens.issue(userId);
        const results = await Promise.allSettled([1, 2, 3].map(() => refreshTokens.rotate(token)));
        const won = results.filter((r) => r.status === 'fulfilled') as PromiseFulfilledResult<{
          token: string;
        }>[];
        expect(won.length).toBeLessThanOrEqual(1);
        for (const { value } of won) {
          await expect(refreshTokens.rotate(value.token)).rejects.toThrow(InvalidRefreshTokenError);
        }
      }
    });

    it('refuses expired and unknown tokens, and revokes on password reset', async () => {
      const expiring = new RefreshTokens(dataSource, 1);
      const token = await expiring.issue(userId);
      await dataSource
        .getRepository(RefreshTokenEntity)
        .update({ tokenHash: tokenHash(token) }, { expiresAt: new Date(Date.now() - 1000) });
      await expect(refreshTokens.rotate(token)).rejects.toThrow(/expired/);
      await expect(refreshTokens.rotate('rt_unknown')).rejects.toThrow(/unknown/);
      const kept = await refreshTokens.issue(userId);
      await users.resetPassword('rita', 'another password of rita');
      await expect(refreshTokens.rotate(kept)).rejects.toThrow(/revoked/);
    });
  });

  describe('ServiceTokens', () => {
    it('creates, finds by hash, revokes and seeds service tokens', async () => {
      const { token, record } = await serviceTokens.create({
        name: 'Batch',
        roles: ['client'],
        createdBy: 'alice',
      });
      expect(record).toMatchObject({ name: 'batch', roles: ['client'], createdBy: 'alice', revokedAt: null });
      expect(await serviceTokens.findActiveByHash(tokenHash(token))).toMatchObject({ id: record.id });
      await expect(
        serviceTokens.create({ name: 'batch', roles: ['client'], createdBy: 'x' }),
      ).rejects.toThrow(ServiceTokenNameTakenError);
      await serviceTokens.revoke('batch');
      expect(await serviceTokens.findActiveByHash(tokenHash(token))).toBeUndefined();
      expect(await serviceTokens.seed('alertmanager', 'secret-one-0123456789', ['alertmanager'])).toBe(
        'created',
      );
      expect(await serviceTokens.seed('alertmanager', 'secret-one-0123456789', ['alertmanager'])).toBe(
        'unchanged',
      );
      expect(await serviceTokens.seed('alertmanager', 'secret-two-0123456789', ['alertmanager'])).toBe(
        'rotated',
      );
      expect((await serviceTokens.active()).map((t) => t.name)).toEqual(['alertmanager']);
    });
  });
});
