import { join } from 'node:path';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Starts the thread entry `name` that sits in `dir` beside the calling module: its compiled .js, or, when the caller
 * runs as TypeScript (ts-node, Jest), its .ts compiled on the fly. A thread inherits none of the parent's loaders, so
 * it registers ts-node and the `@app/*` path aliases itself.
 */
export function startWorkerThread(
  dir: string,
  name: string,
  callerFile: string,
  options: WorkerOptions = {},
): Worker {
  if (!callerFile.endsWith('.ts')) return new Worker(join(dir, `${name}.js`), options);
  const entry = JSON.stringify(join(dir, `${name}.ts`));
  const bootstrap = [
    "require('ts-node').register({ transpileOnly: true });",
    "require('tsconfig-paths/register');",
    `require(${entry});`,
  ].join(' ');
  return new Worker(bootstrap, { ...options, eval: true });
}
