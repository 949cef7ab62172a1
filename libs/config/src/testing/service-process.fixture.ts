import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

const REPOSITORY_ROOT = resolve(__dirname, '../../../..');
const TAIL_LINES = 80;

/** A process started by a test or a bench, with the last lines it wrote, to show when something fails. */
export interface ServiceProcess {
  readonly name: string;
  readonly process: ChildProcess;
  readonly tail: string[];
  /** Settles when the process has exited. */
  readonly exited: Promise<void>;
}

export interface StartOptions {
  /** Added to this process's environment. */
  env?: Record<string, string>;
  /** Default: the repository root. */
  cwd?: string;
  /** Each complete line it writes, on stdout or stderr. */
  onLine?: (line: string) => void;
}

export function hasExited(service: ServiceProcess): boolean {
  return service.process.exitCode !== null || service.process.signalCode !== null;
}

export function lastLines(service: ServiceProcess): string {
  return `last lines of ${service.name}:\n${service.tail.map((line) => `  ${line}`).join('\n')}`;
}

/**
 * A command in a process group of its own, so that stopping it stops what it started too (the worker's training
 * process, the API's threads' helpers).
 */
export function startProcess(
  name: string,
  command: string,
  args: string[],
  options: StartOptions = {},
): ServiceProcess {
  const child = spawn(command, args, {
    cwd: options.cwd ?? REPOSITORY_ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const service: ServiceProcess = { name, process: child, tail: [], exited };
  for (const stream of [child.stdout!, child.stderr!]) {
    let partial = '';
    stream.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        service.tail.push(line);
        if (service.tail.length > TAIL_LINES) service.tail.shift();
        options.onLine?.(line);
      }
    });
  }
  return service;
}

/** An app's entry point (e.g. apps/api/src/main.ts) run as `npm start` runs it: ts-node with the path aliases. */
export function startNodeEntry(name: string, entry: string, options: StartOptions = {}): ServiceProcess {
  return startProcess(
    name,
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', entry],
    options,
  );
}

/** Polls `url` until it answers 2xx. Fails at once when the process exits, or after `timeoutMs`, with its last lines. */
export async function waitUntilAnswering(
  service: ServiceProcess,
  url: string,
  timeoutMs = 120_000,
): Promise<void> {
  const until = performance.now() + timeoutMs;
  for (;;) {
    const ok = await fetch(url, { signal: AbortSignal.timeout(2000) }).then(
      (res) => res.ok,
      () => false,
    );
    if (ok) return;
    if (hasExited(service)) {
      throw new Error(`${service.name} exited before ${url} answered\n${lastLines(service)}`);
    }
    if (performance.now() > until) {
      throw new Error(`${service.name}: ${url} did not answer within ${timeoutMs} ms\n${lastLines(service)}`);
    }
    await new Promise((done) => setTimeout(done, 250));
  }
}

/**
 * Polls `probe` until it returns a value (a rejection counts as "not yet") and returns it. Fails after `timeoutMs`
 * with the probe's last error and the last lines of `services`, which usually say why.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  services: readonly ServiceProcess[] = [],
): Promise<T> {
  const until = performance.now() + timeoutMs;
  let failure: unknown;
  for (;;) {
    const value = await probe().catch((error: unknown) => {
      failure = error;
      return undefined;
    });
    if (value !== undefined) return value;
    if (performance.now() > until) {
      const last = failure === undefined ? '' : ` (last error: ${errorText(failure)})`;
      throw new Error([`timed out waiting for ${what}${last}`, ...services.map(lastLines)].join('\n'));
    }
    await new Promise((done) => setTimeout(done, 250));
  }
}

/** fetch's errors say "fetch failed" and keep the reason (ECONNREFUSED, a timeout) in their cause. */
function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.cause === undefined ? error.message : `${error.message}: ${String(error.cause)}`;
}

/** SIGKILL to the whole group at once: synchronous, for an exit handler. */
export function killProcessGroup(service: ServiceProcess, signal: NodeJS.Signals = 'SIGKILL'): void {
  try {
    process.kill(-service.process.pid!, signal);
  } catch {
    // The group is gone already.
  }
}

/**
 * SIGTERM to the group, SIGKILL after `graceMs`; then SIGKILL to the group for anything its leader left behind.
 * Resolves true when the process stopped within the grace period.
 */
export async function stopProcess(service: ServiceProcess, graceMs = 10_000): Promise<boolean> {
  killProcessGroup(service, 'SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const stopped = await Promise.race([
    service.exited.then(() => true),
    new Promise<boolean>((done) => (timer = setTimeout(() => done(false), graceMs))),
  ]);
  clearTimeout(timer);
  killProcessGroup(service);
  await service.exited;
  return stopped;
}
