import { trainCandidate, type CandidateInput } from './candidate-training';
import type { TrainingProcessMessage } from './training-process';

/** The training process: one candidate per process, then exit. See trainInChildProcess. */
function finish(message: TrainingProcessMessage): void {
  process.send?.(message, () => process.exit(0));
}

// The parent died or closed the channel: nobody will read the result.
process.on('disconnect', () => process.exit(1));

process.once('message', (input: CandidateInput) => {
  trainCandidate(input, {
    progress: (progress) => process.send?.({ type: 'progress', progress }),
    log: (line) => process.send?.({ type: 'log', line }),
  }).then(
    (result) => finish({ type: 'result', result }),
    (error: Error) =>
      // Bad data (a missing folder, a malformed CSV) fails the same way on every attempt.
      finish({ type: 'error', message: error.message, permanent: error.name === 'DatasetError' }),
  );
});
