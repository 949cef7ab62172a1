import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { DatasetError } from '@app/ml';
import type { ModelTrainingInput, TrainedModel, TrainingProgress } from './training.types';

/** Messages from the training process. */
export type TrainingProcessMessage =
  | { type: 'progress'; event: TrainingProgress }
  | { type: 'result'; result: TrainedModel }
  | { type: 'error'; message: string; dataset?: Pick<DatasetError, 'file' | 'problem' | 'row'> };

export interface TrainingProcessOptions {
  progress: (event: TrainingProgress) => void;
  /**
   * Aborted at shutdown or by a cancellation: the process is stopped and the call throws the abort reason (an
   * Error), or an Error saying training was stopped.
   */
  signal: AbortSignal;
  /** After SIGTERM, how long the process has before SIGKILL. */
  killAfterMs?: number;
}

/**
 * Runs the training step (trainModel) in a child process. Training runs for minutes without yielding; in its own
 * process it cannot block the event loop that renews a job's lock, answers health checks and serves the API
 * (embedded mode). The child exits by itself when this process dies (its IPC channel closes), so a killed worker
 * leaves no orphan. Bad data fails as the DatasetError it is, as it would in this process.
 */
export function trainInChildProcess(
  input: ModelTrainingInput,
  options: TrainingProcessOptions,
): Promise<TrainedModel> {
  const child = startChild();
  return new Promise<TrainedModel>((resolve, reject) => {
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      options.signal.removeEventListener('abort', stop);
      outcome();
    };
    const stop = () => {
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), options.killAfterMs ?? 5_000).unref();
      const reason: unknown = options.signal.reason;
      settle(() => reject(reason instanceof Error ? reason : new Error('training stopped')));
    };
    if (options.signal.aborted) return stop();
    options.signal.addEventListener('abort', stop);
    child.on('message', (message: TrainingProcessMessage) => {
      if (message.type === 'progress') options.progress(message.event);
      else if (message.type === 'result') settle(() => resolve(message.result));
      else {
        const { dataset } = message;
        const error = dataset
          ? new DatasetError(dataset.file, dataset.problem, dataset.row)
          : new Error(message.message);
        settle(() => reject(error));
      }
    });
    child.on('error', (error) => settle(() => reject(error)));
    child.on('exit', (code, signal) =>
      settle(() =>
        reject(new Error(`the training process exited (${signal ?? `code ${code}`}) before it finished`)),
      ),
    );
    child.send(input);
  });
}

/**
 * The compiled .js beside this file, or, under ts-node and Jest, the .ts through ts-node (a child process does not
 * inherit the parent's loaders).
 */
function startChild(): ChildProcess {
  const typescript = __filename.endsWith('.ts');
  const entry = join(__dirname, `training.child${typescript ? '.ts' : '.js'}`);
  return fork(entry, [], {
    execArgv: typescript ? ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register'] : [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: {
      ...process.env,
      ...(typescript && { TS_NODE_PROJECT: join(__dirname, '../../../tsconfig.json') }),
    },
  });
}
