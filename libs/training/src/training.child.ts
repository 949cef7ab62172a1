import { DatasetError } from '@app/ml';
import { trainModel } from './model-training.step';
import type { TrainingProcessMessage } from './training-process.runner';
import type { ModelTrainingInput } from './training.types';

/** The training process: one step per process, then exit. See trainInChildProcess. */
function finish(message: TrainingProcessMessage): void {
  process.send?.(message, () => process.exit(0));
}

// The parent died or closed the channel: nobody will read the result.
process.on('disconnect', () => process.exit(1));

process.once('message', (input: ModelTrainingInput) => {
  trainModel(input, (event) => process.send?.({ type: 'progress', event })).then(
    (result) => finish({ type: 'result', result }),
    (error: Error) =>
      finish({
        type: 'error',
        message: error.message,
        ...(error instanceof DatasetError && {
          dataset: { file: error.file, problem: error.problem, row: error.row },
        }),
      }),
  );
});
