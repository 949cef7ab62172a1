import type { DataSource } from 'typeorm';
import { inSqliteTransactionQueue } from './database.transaction';
import { PredictionEntity } from './entities/prediction.entity';

/** The parts of better-sqlite3's connection used here (the package ships no types). */
interface SqliteConnection {
  prepare(sql: string): { run(params: unknown[]): unknown };
  transaction(work: (rows: unknown[][]) => void): (rows: unknown[][]) => void;
}

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
 * driver's own rules (dates, JSON), which keeps rows identical to what TypeORM writes and reads.
 */
export class PredictionWriter {
  private readonly columns;
  private readonly columnList: string;
  private sqliteInsert?: (rows: unknown[][]) => void;

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

  private insertSqlite(values: unknown[][]): Promise<void> {
    // TypeORM shares one connection: a write made while one of its transactions is open (across an await) would
    // be tied to that commit or rollback, so take a turn in the same queue as the transactions.
    return inSqliteTransactionQueue(this.dataSource, () => {
      this.sqliteInsert ??= this.prepareSqliteInsert();
      this.sqliteInsert(values);
    });
  }

  private prepareSqliteInsert(): (rows: unknown[][]) => void {
    const db = (this.dataSource.driver as unknown as { databaseConnection: SqliteConnection })
      .databaseConnection;
    const statement = db.prepare(
      `INSERT OR IGNORE INTO "predictions" (${this.columnList}) VALUES (${this.columns.map(() => '?').join(', ')})`,
    );
    return db.transaction((rows: unknown[][]) => {
      for (const row of rows) statement.run(row);
    });
  }

  private async insertPostgres(values: unknown[][]): Promise<void> {
    const unnest = PG_ARRAY_TYPES.map((type, k) => `$${k + 1}::${type}[]`).join(', ');
    await this.dataSource.query(
      `INSERT INTO "predictions" (${this.columnList}) SELECT * FROM unnest(${unnest}) ON CONFLICT ("id") DO NOTHING`,
      this.columns.map((_, k) => values.map((row) => row[k])),
    );
  }
}
