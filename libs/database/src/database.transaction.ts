import { DataSource, EntityManager } from 'typeorm';

const sqliteQueues = new WeakMap<DataSource, Promise<unknown>>();

/**
 * Runs work in one transaction. TypeORM gives a SQLite data source one connection shared by every caller, so two
 * transactions begun at once would collide ("cannot start a transaction within a transaction"); on SQLite the
 * transactions of a data source therefore run one after the other. PostgreSQL runs them side by side.
 */
export function runInTransaction<T>(
  dataSource: DataSource,
  work: (manager: EntityManager) => Promise<T>,
): Promise<T> {
  if (dataSource.options.type !== 'better-sqlite3') return dataSource.transaction(work);
  return inSqliteTransactionQueue(dataSource, () => dataSource.transaction(work));
}

/** Runs `work` after every SQLite transaction queued before it on this data source (and before any queued later). */
export function inSqliteTransactionQueue<T>(dataSource: DataSource, work: () => Promise<T> | T): Promise<T> {
  const previous = sqliteQueues.get(dataSource) ?? Promise.resolve();
  const result = previous.then(work);
  sqliteQueues.set(
    dataSource,
    result.catch(() => undefined),
  );
  return result;
}
