import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { AppConfig } from '@app/config';
import { openDataSource } from '../data-source.options';
import { createPostgresTestSchema } from './postgres-schema.fixture';

export interface TestDatabase {
  name: string;
  /** A fresh, empty database (with `env`'s other settings); returns its configuration and how to remove it. */
  create(env?: Record<string, string>): Promise<{ config: AppConfig; cleanup(): Promise<void> }>;
}

/** Both drivers, each as a fresh empty database, for specs that must hold on PostgreSQL and SQLite alike. */
export const TEST_DATABASES: TestDatabase[] = [
  {
    name: 'PostgreSQL',
    async create(env = {}) {
      const pg = await createPostgresTestSchema();
      return {
        config: AppConfig.fromEnvironment({ ...env, DATABASE_URL: pg.url, DATABASE_SCHEMA: pg.schema }),
        cleanup: pg.drop,
      };
    },
  },
  {
    name: 'SQLite',
    async create(env = {}) {
      const dir = mkdtempSync(join(tmpdir(), 'database-spec-'));
      return {
        // A VAR_DIR that does not exist yet: the data source creates it.
        config: AppConfig.fromEnvironment({ ...env, VAR_DIR: join(dir, 'var') }),
        cleanup: async () => rmSync(dir, { recursive: true, force: true }),
      };
    },
  },
];

export interface OpenTestDatabase {
  config: AppConfig;
  dataSource: DataSource;
  /** Closes the data source and removes the database. */
  close(): Promise<void>;
}

/** A fresh database of this driver (with `env`'s other settings), migrated and open. */
export async function openTestDatabase(
  database: TestDatabase,
  env?: Record<string, string>,
): Promise<OpenTestDatabase> {
  const { config, cleanup } = await database.create(env);
  const dataSource = await openDataSource(config).catch(async (error: unknown) => {
    await cleanup();
    throw error;
  });
  return {
    config,
    dataSource,
    close: async () => {
      await dataSource.destroy();
      await cleanup();
    },
  };
}
