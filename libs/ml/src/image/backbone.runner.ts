import { startWorkerThread } from '@app/config';
import { Worker } from 'node:worker_threads';
import { PretrainedBackbone, type BackboneSpec } from './pretrained-backbone.model';

/** Runs pretrained backbones: pooled features of decoded images (size×size×3 RGB bytes each). */
export interface BackboneRunner {
  extract(spec: BackboneSpec, pixels: Uint8Array[]): Promise<Float32Array[]>;
  /** Loads the backbone now (a model load warms it), so that the first request does not pay for it. */
  warm(spec: BackboneSpec): Promise<void>;
  dispose(): void;
}

const specKey = (spec: BackboneSpec): string => JSON.stringify(spec);

/** Backbones loaded once per spec, kept for the life of their owner (a thread, or the process). */
export class BackboneCache {
  private readonly loaded = new Map<string, Promise<PretrainedBackbone>>();

  get(spec: BackboneSpec): Promise<PretrainedBackbone> {
    const key = specKey(spec);
    let backbone = this.loaded.get(key);
    if (!backbone) {
      backbone = PretrainedBackbone.load(spec);
      this.loaded.set(key, backbone);
      backbone.catch(() => this.loaded.delete(key));
    }
    return backbone;
  }

  dispose(): void {
    for (const backbone of this.loaded.values()) backbone.then((b) => b.dispose()).catch(() => undefined);
    this.loaded.clear();
  }
}

/**
 * In the calling thread: for command-line tools and the training process, whose event loop serves nobody. An API
 * uses BackboneThreadPool instead.
 */
export class InThreadBackboneRunner implements BackboneRunner {
  private readonly backbones = new BackboneCache();

  async extract(spec: BackboneSpec, pixels: Uint8Array[]): Promise<Float32Array[]> {
    const backbone = await this.backbones.get(spec);
    return pixels.map((p) => backbone.extract(p));
  }

  async warm(spec: BackboneSpec): Promise<void> {
    await this.backbones.get(spec);
  }

  dispose(): void {
    this.backbones.dispose();
  }
}

/** Messages between a BackboneThreadPool and its threads. */
export type BackboneRequest = { id: number; spec: BackboneSpec; pixels: Uint8Array | null };
export type BackboneReply = { id: number; features: Float32Array | null } | { id: number; error: string };

/** The pool was closed, or its thread died while extracting: the request may be retried. */
export class BackboneUnavailableError extends Error {
  constructor(detail: string) {
    super(`Image feature extraction is unavailable: ${detail}`);
    this.name = 'BackboneUnavailableError';
  }
}

interface Job {
  request: Omit<BackboneRequest, 'id'>;
  resolve: (features: Float32Array | null) => void;
  reject: (error: Error) => void;
}

const RESTART_DELAY_MS = 500;

/**
 * Backbones in worker threads, off the event loop that parses, validates and answers requests. Each thread takes
 * one image at a time and the others wait in line (first come, first served): at most `size` extractions run at
 * once, whatever the load, so a burst of photos costs time, not memory or cores taken from the rest of the process.
 * Each thread loads a backbone the first time it is asked for one (about 0.2 s, then ~100 ms per 224×224 image on
 * one core); a thread that dies fails the image it held and is replaced.
 */
export class BackboneThreadPool implements BackboneRunner {
  private readonly idle: Worker[] = [];
  private readonly busy = new Map<Worker, { id: number; job: Job }>();
  private readonly waiting: Job[] = [];
  private nextId = 0;
  private closed = false;

  constructor(
    readonly size: number,
    private readonly onThreadError: (message: string) => void = () => undefined,
  ) {
    if (!Number.isInteger(size) || size < 1)
      throw new RangeError(`a pool needs at least one thread, not ${size}`);
    for (let i = 0; i < size; i++) this.start();
  }

  /** Images waiting for a thread (not counting those being extracted). */
  get queued(): number {
    return this.waiting.length;
  }

  async extract(spec: BackboneSpec, pixels: Uint8Array[]): Promise<Float32Array[]> {
    const features = await Promise.all(pixels.map((p) => this.submit({ spec, pixels: p })));
    return features as Float32Array[];
  }

  /** Every thread loads the backbone (each thread holds its own copy, about 15 MB). */
  async warm(spec: BackboneSpec): Promise<void> {
    await Promise.all(Array.from({ length: this.size }, () => this.submit({ spec, pixels: null })));
  }

  dispose(): void {
    this.closed = true;
    const error = new BackboneUnavailableError('the pool was closed');
    for (const job of this.waiting.splice(0)) job.reject(error);
    for (const [worker, { job }] of this.busy) {
      job.reject(error);
      void worker.terminate();
    }
    this.busy.clear();
    for (const worker of this.idle.splice(0)) void worker.terminate();
  }

  private submit(request: Job['request']): Promise<Float32Array | null> {
    if (this.closed) return Promise.reject(new BackboneUnavailableError('the pool was closed'));
    return new Promise((resolve, reject) => {
      this.waiting.push({ request, resolve, reject });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.idle.length > 0 && this.waiting.length > 0) {
      const worker = this.idle.pop()!;
      const job = this.waiting.shift()!;
      const id = this.nextId++;
      this.busy.set(worker, { id, job });
      // Only a thread at work keeps the process alive: an idle pool must not stop a process (or Jest) exiting.
      worker.ref();
      const { pixels } = job.request;
      // A copy goes to the thread: the caller's pixels may be a view of a larger buffer it still uses.
      worker.postMessage({ id, ...job.request, pixels: pixels && pixels.slice() } satisfies BackboneRequest);
    }
  }

  private start(): void {
    if (this.closed) return;
    const worker = startWorkerThread(__dirname, 'backbone.worker', __filename);
    worker.on('message', (reply: BackboneReply) => {
      const current = this.busy.get(worker);
      if (!current || current.id !== reply.id) return;
      this.busy.delete(worker);
      if ('error' in reply) current.job.reject(new Error(reply.error));
      else current.job.resolve(reply.features);
      worker.unref();
      this.idle.push(worker);
      this.dispatch();
    });
    worker.on('error', (error) => this.onThreadError(`image feature thread: ${error.message}`));
    worker.unref();
    worker.once('exit', (code) => {
      if (this.closed) return;
      const current = this.busy.get(worker);
      this.busy.delete(worker);
      const at = this.idle.indexOf(worker);
      if (at >= 0) this.idle.splice(at, 1);
      const message = `an image feature thread stopped (exit code ${code}); starting another`;
      this.onThreadError(message);
      current?.job.reject(new BackboneUnavailableError(message));
      setTimeout(() => this.start(), RESTART_DELAY_MS).unref();
    });
    this.idle.push(worker);
    this.dispatch();
  }
}
