import { startWorkerThread } from '@app/config';
import { Worker } from 'node:worker_threads';
import { ArtifactError } from '../artifacts/model-artifact.format';
import type { ProductText } from './text-hashing.util';

/** What a scoring thread says once it has loaded its models, or failed to. */
export type WorkerStarted = { ready: true } | { ready: false; error: string };
export interface ScoringRequest {
  id: number;
  texts: ProductText[];
}
export type ScoringReply = { id: number; probabilities: Float32Array } | { id: number; error: string };

/** A text model's scoring stopped (its thread died or the pool was closed); the request may be retried. */
export class ScoringUnavailableError extends Error {
  constructor(detail: string) {
    super(`Text scoring is unavailable: ${detail}`);
    this.name = 'ScoringUnavailableError';
  }
}

const RESTART_DELAY_MS = 500;
const MAX_RESTART_DELAY_MS = 30_000;

/** Below this many texts per thread, splitting a batch costs more in messages than the threads save. */
const MIN_TEXTS_PER_PART = 32;

interface Pending {
  texts: number;
  resolve: (probabilities: Float32Array) => void;
  reject: (error: Error) => void;
}

class ScoringThread {
  readonly pending = new Map<number, Pending>();
  alive = true;

  constructor(readonly worker: Worker) {}

  /** Texts sent to this thread and not answered yet. */
  get queuedTexts(): number {
    let texts = 0;
    for (const pending of this.pending.values()) texts += pending.texts;
    return texts;
  }

  failAll(error: Error): void {
    for (const { reject } of this.pending.values()) reject(error);
    this.pending.clear();
  }
}

/**
 * The text models of one model artifact, loaded in worker threads that score batches off the calling thread:
 * an API's event loop keeps parsing, validating and answering requests while the threads score, and a machine's
 * other cores score too. Each thread holds its own copy of the text models (their memory is per thread).
 * A batch is split across the threads when it is large enough; a thread that dies fails the requests it held
 * and is replaced.
 */
export class TextScoringPool {
  private nextId = 0;
  private closed = false;

  private constructor(
    private readonly dir: string,
    private readonly threads: ScoringThread[],
    private readonly onThreadError: (message: string) => void,
  ) {
    threads.forEach((thread, slot) => this.watch(thread, slot));
  }

  /** Starts `size` threads on the artifact in `dir` (already verified or not: each thread verifies what it reads). */
  static async start(
    dir: string,
    size: number,
    onThreadError: (message: string) => void = () => undefined,
  ): Promise<TextScoringPool> {
    if (!Number.isInteger(size) || size < 1) throw new Error('A scoring pool needs at least one thread');
    const started = await Promise.allSettled(Array.from({ length: size }, () => startThread(dir)));
    const failed = started.find((result) => result.status === 'rejected');
    if (failed) {
      for (const result of started) if (result.status === 'fulfilled') void result.value.worker.terminate();
      throw (failed as PromiseRejectedResult).reason;
    }
    return new TextScoringPool(
      dir,
      started.map((result) => (result as PromiseFulfilledResult<ScoringThread>).value),
      onThreadError,
    );
  }

  get size(): number {
    return this.threads.length;
  }

  /** Threads that can take work now (the others are being replaced). */
  get running(): number {
    return this.threads.filter((thread) => thread.alive).length;
  }

  /** Class probabilities, row-major texts × classes, in the order of `texts`. */
  async predictProba(texts: ProductText[]): Promise<Float32Array> {
    if (this.closed) throw new ScoringUnavailableError('the model was unloaded');
    if (texts.length === 0) return new Float32Array(0);
    const parts = Math.max(1, Math.min(this.threads.length, Math.floor(texts.length / MIN_TEXTS_PER_PART)));
    const size = Math.ceil(texts.length / parts);
    const results = await Promise.all(
      Array.from({ length: parts }, (_, p) => this.send(texts.slice(p * size, (p + 1) * size))),
    );
    if (results.length === 1) return results[0];
    const out = new Float32Array(results.reduce((sum, part) => sum + part.length, 0));
    let offset = 0;
    for (const part of results) {
      out.set(part, offset);
      offset += part.length;
    }
    return out;
  }

  /** Stops every thread; requests still waiting fail with ScoringUnavailableError. */
  dispose(): void {
    this.closed = true;
    for (const thread of this.threads) {
      thread.failAll(new ScoringUnavailableError('the model was unloaded'));
      void thread.worker.terminate();
    }
  }

  private send(texts: ProductText[]): Promise<Float32Array> {
    // The thread with the fewest texts waiting: batches of different sizes still spread evenly.
    const thread = this.threads
      .filter((t) => t.alive)
      .reduce<ScoringThread | undefined>(
        (best, t) => (!best || t.queuedTexts < best.queuedTexts ? t : best),
        undefined,
      );
    if (!thread)
      return Promise.reject(new ScoringUnavailableError('its threads are restarting; retry shortly'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      thread.pending.set(id, { texts: texts.length, resolve, reject });
      thread.worker.postMessage({ id, texts } satisfies ScoringRequest);
    });
  }

  private watch(thread: ScoringThread, slot: number): void {
    thread.worker.on('message', (reply: ScoringReply) => {
      const pending = thread.pending.get(reply.id);
      if (!pending) return;
      thread.pending.delete(reply.id);
      if ('error' in reply) pending.reject(new Error(reply.error));
      else pending.resolve(reply.probabilities);
    });
    thread.worker.once('exit', (code) => {
      thread.alive = false;
      if (this.closed) return;
      const message = `a text scoring thread stopped (exit code ${code}); starting another`;
      this.onThreadError(message);
      thread.failAll(new ScoringUnavailableError(message));
      this.replace(slot);
    });
    thread.worker.on('error', (error) => this.onThreadError(`text scoring thread: ${error.message}`));
  }

  /** Starts a thread in place of a dead one; a failed start is retried with growing delays until one works. */
  private replace(slot: number, attempt = 1): void {
    if (this.closed) return;
    startThread(this.dir).then(
      (thread) => {
        if (this.closed) {
          void thread.worker.terminate();
          return;
        }
        this.threads[slot] = thread;
        this.watch(thread, slot);
      },
      (error: Error) => {
        const delay = Math.min(MAX_RESTART_DELAY_MS, RESTART_DELAY_MS * 2 ** (attempt - 1));
        this.onThreadError(
          `a text scoring thread could not be restarted (${error.message}); trying again in ${delay} ms`,
        );
        setTimeout(() => this.replace(slot, attempt + 1), delay).unref();
      },
    );
  }
}

/**
 * Runs the worker from its compiled .js beside this file, or, when this file is TypeScript run through ts-node or
 * Jest, from its .ts compiled on the fly (a worker thread does not inherit the parent's loaders).
 */
function startThread(dir: string): Promise<ScoringThread> {
  const worker = startWorkerThread(__dirname, 'text-scoring.worker', __filename, { workerData: { dir } });
  return new Promise((resolve, reject) => {
    const failed = (detail: string) => {
      void worker.terminate();
      reject(new ArtifactError(dir, `the text models cannot be loaded in a scoring thread (${detail})`));
    };
    worker.once('message', (started: WorkerStarted) => {
      worker.removeAllListeners('exit');
      worker.removeAllListeners('error');
      if (started.ready) resolve(new ScoringThread(worker));
      else failed(started.error);
    });
    worker.once('error', (error) => failed(error.message));
    worker.once('exit', (code) => failed(`the thread exited with code ${code}`));
  });
}
