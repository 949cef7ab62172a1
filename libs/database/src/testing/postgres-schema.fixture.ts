import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

export const DEFAULT_TEST_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';

export interface PostgresTestSchema {
  url: string;
  schema: string;
  /** Drops the schema and everything in it. */
  drop(): Promise<void>;
}

async function withClient<T>(url: string, run: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/**
 * A fresh, uniquely named schema in the database at TEST_DATABASE_URL, so that test files running in parallel (or
 * two CI jobs sharing a server) never see each other's tables. Pass url and schema as DATABASE_URL and
 * DATABASE_SCHEMA.
 */
export async function createPostgresTestSchema(): Promise<PostgresTestSchema> {
  const url = process.env.TEST_DATABASE_URL || DEFAULT_TEST_DATABASE_URL;
  const schema = `test_${process.pid}_${randomBytes(4).toString('hex')}`;
  await withClient(url, (client) => client.query(`CREATE SCHEMA "${schema}"`));
  return {
    url,
    schema,
    drop: () =>
      withClient(url, (client) => client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)).then(() => {}),
  };
}
