import { Client } from 'pg';
import { DATABASE_MIGRATIONS } from '@app/database';
import { createPostgresTestSchema, type PostgresTestSchema } from '@app/database/testing';
import { AppConfig } from '@app/config';
import { migrate } from './migrate.command';

describe('npm run migrate', () => {
  let pg: PostgresTestSchema;

  beforeAll(async () => {
    pg = await createPostgresTestSchema();
  });
  afterAll(() => pg?.drop());

  it('applies every migration to an empty database, then finds nothing to do', async () => {
    const config = AppConfig.fromEnvironment({ DATABASE_URL: pg.url, DATABASE_SCHEMA: pg.schema });
    const first = await migrate(config);
    expect(first).toEqual({ database: 'postgres', migrations: expect.any(Array), pending: false });
    expect(first.migrations).toHaveLength(DATABASE_MIGRATIONS.length);

    const client = new Client({ connectionString: pg.url });
    await client.connect();
    try {
      const { rows } = await client.query(`SELECT count(*)::int AS n FROM "${pg.schema}".migrations`);
      expect(rows[0].n).toBe(DATABASE_MIGRATIONS.length);
      await expect(client.query(`SELECT 1 FROM "${pg.schema}".users LIMIT 1`)).resolves.toBeDefined();
    } finally {
      await client.end();
    }
    await expect(migrate(config)).resolves.toEqual(first);
  });
});
