import { startWorkerThread } from '@app/config';
import { Worker } from 'node:worker_threads';
import type { SqliteWriteRequest, SqliteWriteResult, SqliteWriterData } from './sqlite-writer.thread';

/**
 * Runs one prepared INSERT over many rows, in one transaction per call, in a worker thread with its own SQLite
 * connection. better-sqlite3 is synchronous: on the event loop a write of a few hundred rows (and its commit's
 * fsync) stalls every request for tens of milliseconds. The thread is started on the first write, does not keep the
 * process alive, and is replaced if it dies.
 */
export class SqliteWriterThread {
  private worker?: Worker;
  private nextId = 0;
  private readonly pending = new Map<
    number,
    { worker: Worker; resolve: () => void; reject: (error: Error) => void }
  >();

  constructor(private readonly data: SqliteWriterData) {}

  write(rows: unknown[][]): Promise<void> {
    const worker = (this.worker ??= this.start());
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { worker, resolve, reject });
      worker.postMessage({ id, rows } satisfies SqliteWriteRequest);
    });
  }

  /** Starts the thread and waits until it has opened the database (an empty write's round trip). */
  async open(): Promise<void> {
    await this.write([]);
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }

  private start(): Worker {
    const worker = startWorkerThread(__dirname, 'sqlite-writer.thread', __filename, {
      workerData: this.data,
    });
    worker.unref();
    worker.on('message', ({ id, error }: SqliteWriteResult) => {
      const waiting = this.pending.get(id);
      this.pending.delete(id);
      if (error === undefined) waiting?.resolve();
      else waiting?.reject(new Error(error));
    });
    const failAll = (error: Error) => {
      if (this.worker === worker) this.worker = undefined;
      for (const [id, waiting] of this.pending) {
        if (waiting.worker !== worker) continue;
        this.pending.delete(id);
        waiting.reject(error);
      }
    };
    worker.on('error', failAll);
    worker.on('exit', (code) => failAll(new Error(`the SQLite writer thread exited with code ${code}`)));
    return worker;
  }
}
