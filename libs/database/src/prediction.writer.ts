import type { DataSource } from 'typeorm';
import { PredictionEntity } from './entities/prediction.entity';
import { SqliteWriterThread } from './sqlite-writer.client';

/** A prediction to store; without a decision (callers that predate decisions) the columns are stored as null. */
export type PredictionRow = Pick<PredictionEntity, Exclude<(typeof COLUMNS)[number], OptionalColumn>> &
  Partial<Pick<PredictionEntity, OptionalColumn>>;

type OptionalColumn = 'decision' | 'decisionThreshold';

const COLUMNS = [
  'id',
  'createdAt',
  'modelVersion',
  'prdtypecode',
  'probability',
  'top',
  'modality',
  'designation',
  'description',
  'imageSha256',
  'latencyMs',
  'requestedBy',
  'decision',
  'decisionThreshold',
] as const;

/** Element types for PostgreSQL's unnest(), in COLUMNS order. */
const PG_ARRAY_TYPES = [
  'varchar',
  'timestamp',
  'varchar',
  'integer',
  'double precision',
  'text',
  'varchar',
  'text',
  'text',
  'varchar',
  'double precision',
  'varchar',
  'varchar',
  'double precision',
];

/**
 * Bulk insert of predictions, ignoring ids already stored (a retried write is harmless). The API writes every
 * prediction it serves, thousands per second; TypeORM's query builder spends more CPU building one multi-row
 * INSERT than the database spends running it, so this builds the statement once and converts values with the
 * driver's own rules (dates, JSON), which keeps rows identical to what TypeORM writes and reads. On SQLite the rows
 * are written by a thread of its own (SqliteWriterThread), off the event loop; `close()` stops it.
 */
export class PredictionWriter {
  private readonly columns;
  private readonly columnList: string;
  private sqliteWriter?: SqliteWriterThread;

  constructor(private readonly dataSource: DataSource) {
    const metadata = dataSource.getMetadata(PredictionEntity);
    this.columns = COLUMNS.map((property) => metadata.findColumnWithPropertyName(property)!);
    this.columnList = this.columns.map((c) => `"${c.databaseName}"`).join(', ');
  }

  async insert(rows: readonly PredictionRow[]): Promise<void> {
    if (rows.length === 0) return;
    const { driver } = this.dataSource;
    const values = rows.map((row) =>
      this.columns.map((column) =>
        driver.preparePersistentValue(row[column.propertyName as keyof PredictionRow] ?? null, column),
      ),
    );
    if (this.dataSource.options.type === 'better-sqlite3') {
      await this.insertSqlite(values);
    } else {
      await this.insertPostgres(values);
    }
  }

  /**
   * On SQLite, starts the writer thread and waits until it is ready, so that the first predictions are not stored
   * late while it starts (inserts start it too when this was not called).
   */
  async open(): Promise<void> {
    if (this.dataSource.options.type === 'better-sqlite3') await this.sqliteThread().open();
  }

  /** Stops the SQLite writer thread, if one was started; a later insert starts another. */
  async close(): Promise<void> {
    await this.sqliteWriter?.close();
  }

  private insertSqlite(values: unknown[][]): Promise<void> {
    // Its own connection, not TypeORM's: no transaction of TypeORM's can hold these rows, and SQLite serialises the
    // two connections' writes (busy timeout as configured for the data source).
    return this.sqliteThread().write(values);
  }

  private sqliteThread(): SqliteWriterThread {
    const options = this.dataSource.options as { database: string; timeout?: number };
    this.sqliteWriter ??= new SqliteWriterThread({
      file: options.database,
      sql: `INSERT OR IGNORE INTO "predictions" (${this.columnList}) VALUES (${this.columns.map(() => '?').join(', ')})`,
      busyTimeoutMs: options.timeout ?? 15_000,
    });
    return this.sqliteWriter;
  }

  private async insertPostgres(values: unknown[][]): Promise<void> {
    const unnest = PG_ARRAY_TYPES.map((type, k) => `$${k + 1}::${type}[]`).join(', ');
    await this.dataSource.query(
      `INSERT INTO "predictions" (${this.columnList}) SELECT * FROM unnest(${unnest}) ON CONFLICT ("id") DO NOTHING`,
      this.columns.map((_, k) => values.map((row) => row[k])),
    );
  }
}
