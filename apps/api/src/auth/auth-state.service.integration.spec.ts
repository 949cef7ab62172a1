import { DataSource } from 'typeorm';
import { AppConfig } from '@app/config';
import { openTestDatabase, TEST_DATABASES, type OpenTestDatabase } from '@app/database/testing';
import { ServiceTokens, tokenHash, UserAccounts } from '@app/accounts';
import { AuthState } from './auth-state.service';

describe.each(TEST_DATABASES)('AuthState on $name', (driver) => {
  let dataSource: DataSource;
  let db: OpenTestDatabase;
  let config: AppConfig;
  let users: UserAccounts;
  let serviceTokens: ServiceTokens;

  beforeAll(async () => {
    db = await openTestDatabase(driver, { AUTH_CACHE_REFRESH_MS: '60000' });
    ({ config, dataSource } = db);
    users = new UserAccounts(dataSource, 4);
    serviceTokens = new ServiceTokens(dataSource);
    await users.create({ username: 'alice', password: 'password of alice', roles: ['client'] });
  });
  afterAll(async () => {
    await db?.close();
  });

  it('caches disabled users and service tokens, and sees changes from elsewhere at reload', async () => {
    const state = new AuthState(config, users, serviceTokens);
    await state.onModuleInit();
    try {
      const { token, record } = await serviceTokens.create({
        name: 'cached',
        roles: ['client'],
        createdBy: 'x',
      });
      // Created after the load: found by one query.
      expect(await state.serviceToken(tokenHash(token))).toMatchObject({ kind: 'service', name: 'cached' });
      await serviceTokens.revoke('cached'); // by another process
      expect(await state.serviceToken(tokenHash(token))).toBeDefined(); // until the next reload
      await state.reload();
      expect(await state.serviceToken(tokenHash(token))).toBeUndefined();
      expect(await state.serviceToken(tokenHash('never issued'))).toBeUndefined();

      const alice = await users.get('alice');
      expect(state.isDisabled(alice.id)).toBe(false);
      await users.setDisabled('alice', true);
      await state.reload();
      expect(state.isDisabled(alice.id)).toBe(true);
      state.setDisabled(alice.id, false); // enabled through this replica: at once, and kept over a stale reload
      expect(state.isDisabled(alice.id)).toBe(false);
      await users.setDisabled('alice', false);
      await state.reload();
      expect(state.isDisabled(alice.id)).toBe(false);
      expect(record.id).toBeDefined();
    } finally {
      state.onApplicationShutdown();
    }
  });
});
