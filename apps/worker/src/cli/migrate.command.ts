import type { DataSource } from 'typeorm';
import type { AppConfig } from '@app/config';
import { openDataSource } from '@app/database';

export const MIGRATE_USAGE = `Usage:
  npm run migrate
      applies the pending database migrations (DATABASE_URL, or the SQLite file under VAR_DIR) and exits
Prints {"database", "migrations", "pending"} on stdout.`;

export interface MigrateResult {
  database: string;
  /** Every migration the code knows, oldest first: all applied once the command succeeds. */
  migrations: string[];
  pending: boolean;
}

/**
 * Opening the data source runs the pending migrations, on PostgreSQL under the advisory lock that booting replicas
 * take too, so a deploy can migrate once before it replaces any instance.
 */
export async function migrate(config: AppConfig, open = openDataSource): Promise<MigrateResult> {
  const dataSource: DataSource = await open(config);
  try {
    return {
      database: dataSource.options.type,
      migrations: dataSource.migrations.map((migration) => migration.name ?? migration.constructor.name),
      pending: await dataSource.showMigrations(),
    };
  } finally {
    await dataSource.destroy();
  }
}
