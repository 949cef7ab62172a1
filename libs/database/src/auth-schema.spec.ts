import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { isUniqueViolation } from './database.errors';
import { RefreshTokenEntity } from './entities/refresh-token.entity';
import { ServiceTokenEntity } from './entities/service-token.entity';
import { UserEntity } from './entities/user.entity';
import {
  openTestDatabase,
  TEST_DATABASES as DRIVERS,
  type OpenTestDatabase,
} from './testing/test-databases.fixture';

describe.each(DRIVERS)('auth tables on $name', (driver) => {
  let dataSource: DataSource;
  let db: OpenTestDatabase;

  beforeAll(async () => {
    db = await openTestDatabase(driver);
    dataSource = db.dataSource;
  });
  afterAll(async () => {
    await db?.close();
  });

  it('round-trips a user: roles as JSON, the disabled flag, nullable dates', async () => {
    const users = dataSource.getRepository(UserEntity);
    const id = randomUUID();
    await users.insert({ id, username: 'alice', passwordHash: '$2b$04$x', roles: ['client', 'ml-engineer'] });
    const stored = await users.findOneByOrFail({ id });
    expect(stored).toEqual({
      id,
      username: 'alice',
      passwordHash: '$2b$04$x',
      roles: ['client', 'ml-engineer'],
      disabled: false,
      createdAt: expect.any(Date),
      lastLoginAt: null,
      passwordChangedAt: null,
    });
    const at = new Date('2026-05-06T07:08:09.123Z');
    await users.update({ id }, { disabled: true, lastLoginAt: at });
    expect(await users.findOneByOrFail({ id })).toMatchObject({ disabled: true, lastLoginAt: at });
    expect(await users.countBy({ disabled: true })).toBe(1);
    const duplicate = await users
      .insert({ id: randomUUID(), username: 'alice', passwordHash: 'x', roles: [] })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(isUniqueViolation(duplicate)).toBe(true);
  });

  it('keeps refresh tokens by family, unique by hash, deleted with their user', async () => {
    const users = dataSource.getRepository(UserEntity);
    const tokens = dataSource.getRepository(RefreshTokenEntity);
    const userId = randomUUID();
    await users.insert({ id: userId, username: 'bob', passwordHash: 'x', roles: ['client'] });
    const familyId = randomUUID();
    const expiresAt = new Date(Date.now() + 86_400_000);
    await tokens.insert([
      { id: randomUUID(), familyId, userId, tokenHash: 'a'.repeat(64), expiresAt },
      { id: randomUUID(), familyId, userId, tokenHash: 'b'.repeat(64), expiresAt },
    ]);
    const first = await tokens.findOneByOrFail({ tokenHash: 'a'.repeat(64) });
    expect(first).toMatchObject({ familyId, userId, usedAt: null, revokedAt: null });
    expect(first.expiresAt.getTime()).toBe(expiresAt.getTime());
    const duplicate = await tokens
      .insert({ id: randomUUID(), familyId, userId, tokenHash: 'a'.repeat(64), expiresAt })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(isUniqueViolation(duplicate)).toBe(true);
    await expect(
      tokens.insert({
        id: randomUUID(),
        familyId,
        userId: randomUUID(),
        tokenHash: 'c'.repeat(64),
        expiresAt,
      }),
    ).rejects.toThrow();
    await users.delete({ id: userId });
    expect(await tokens.countBy({ familyId })).toBe(0);
  });

  it('keeps service tokens unique by name and by hash', async () => {
    const tokens = dataSource.getRepository(ServiceTokenEntity);
    const row = {
      name: 'alertmanager',
      tokenHash: 'd'.repeat(64),
      roles: ['alertmanager'],
      createdBy: 'boot',
    };
    await tokens.insert({ id: randomUUID(), ...row });
    expect(await tokens.findOneByOrFail({ tokenHash: row.tokenHash })).toMatchObject({
      ...row,
      expiresAt: null,
      revokedAt: null,
      lastUsedAt: null,
    });
    for (const patch of [{ tokenHash: 'e'.repeat(64) }, { name: 'other' }]) {
      const error = await tokens.insert({ id: randomUUID(), ...row, ...patch }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isUniqueViolation(error)).toBe(true);
    }
  });
});
