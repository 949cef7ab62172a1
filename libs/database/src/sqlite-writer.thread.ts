import { parentPort, workerData } from 'node:worker_threads';

/** The parts of better-sqlite3 used here (the package ships no types). */
interface SqliteDatabase {
  prepare(sql: string): { run(params: unknown[]): unknown };
  transaction(work: (rows: unknown[][]) => void): (rows: unknown[][]) => void;
  close(): void;
}

export interface SqliteWriterData {
  file: string;
  sql: string;
  busyTimeoutMs: number;
}

export interface SqliteWriteRequest {
  id: number;
  rows: unknown[][];
}

export interface SqliteWriteResult {
  id: number;
  error?: string;
}

// A connection of its own, in this thread: SQLite's inserts and commits (fsync included) block only this thread.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const Database = require('better-sqlite3') as new (
  file: string,
  options: { timeout: number },
) => SqliteDatabase;
const { file, sql, busyTimeoutMs } = workerData as SqliteWriterData;
const db = new Database(file, { timeout: busyTimeoutMs });
const statement = db.prepare(sql);
const insertAll = db.transaction((rows: unknown[][]) => {
  for (const row of rows) statement.run(row);
});

parentPort!.on('message', ({ id, rows }: SqliteWriteRequest) => {
  let result: SqliteWriteResult;
  try {
    insertAll(rows);
    result = { id };
  } catch (error) {
    result = { id, error: (error as Error).message };
  }
  parentPort!.postMessage(result);
});
