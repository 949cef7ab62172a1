import { resolve } from 'node:path';
import { Client, defaults, types } from 'pg';
import { DataSource, DataSourceOptions } from 'typeorm';
import { AppConfig } from '@app/config';
import { DATABASE_ENTITIES, DATABASE_MIGRATIONS } from './database.schema';

export const SQLITE_FILE = 'service.sqlite';

/** How long a SQLite writer waits for another process's write lock before failing with SQLITE_BUSY. */
const SQLITE_BUSY_TIMEOUT_MS = 15_000;

/**
 * PostgreSQL when DATABASE_URL is set (in DATABASE_SCHEMA when that is set too), else the embedded SQLite file
 * <VAR_DIR>/service.sqlite. Migrations run at initialization; the schema is never synchronized from the entities.
 */
export function dataSourceOptions(config: AppConfig): DataSourceOptions {
  const common = {
    entities: DATABASE_ENTITIES,
    migrations: DATABASE_MIGRATIONS,
    migrationsRun: true,
    synchronize: false,
  };
  const { DATABASE_URL, DATABASE_SCHEMA, VAR_DIR } = config.env;
  if (DATABASE_URL) {
    storeTimestampsInUtc();
    // TypeORM qualifies its own queries with the schema; raw SQL (migrations, reports) relies on the search path.
    const searchPath = DATABASE_SCHEMA ? ` -c search_path=${DATABASE_SCHEMA}` : '';
    return {
      ...common,
      type: 'postgres',
      url: DATABASE_URL,
      ...(DATABASE_SCHEMA && { schema: DATABASE_SCHEMA }),
      extra: { options: `-c timezone=UTC${searchPath}` },
    };
  }
  return {
    ...common,
    type: 'better-sqlite3',
    // The driver creates the directory when it is missing.
    database: resolve(VAR_DIR, SQLITE_FILE),
    enableWAL: true,
    timeout: SQLITE_BUSY_TIMEOUT_MS,
  };
}

/**
 * `timestamp` columns (no time zone, TypeORM's default) hold UTC, whatever the time zone of the process writing or
 * reading them: the API, the worker and a CLI on a laptop must agree on when something happened. The session
 * time zone (for now() defaults) is set to UTC in the connection options.
 */
function storeTimestampsInUtc(): void {
  defaults.parseInputDatesAsUTC = true;
  types.setTypeParser(types.builtins.TIMESTAMP, (value: string) => new Date(`${value.replace(' ', 'T')}Z`));
}

/**
 * Initializes a data source and runs pending migrations. On PostgreSQL it first creates the schema when missing
 * and holds an advisory lock while migrating, so replicas starting together do not run the same migration twice.
 */
export async function initializeDataSource(options: DataSourceOptions): Promise<DataSource> {
  if (options.type !== 'postgres') return new DataSource(options).initialize();
  const client = new Client({ connectionString: options.url });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [`migrations:${options.schema ?? 'public'}`]);
    if (options.schema) await client.query(`CREATE SCHEMA IF NOT EXISTS "${options.schema}"`);
    return await new DataSource(options).initialize();
  } finally {
    // Closing the session releases the advisory lock.
    await client.end();
  }
}

/**
 * The configured database, migrated: for processes outside Nest (command-line tools, scripts). Open one per
 * process: better-sqlite3 waits for locks synchronously, so two SQLite data sources writing from one thread block
 * each other until the busy timeout.
 */
export function openDataSource(config: AppConfig): Promise<DataSource> {
  return initializeDataSource(dataSourceOptions(config));
}
