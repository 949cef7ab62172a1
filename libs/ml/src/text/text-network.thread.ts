import { startWorkerThread } from '@app/config';
import type { SerializedComponent } from '../artifacts/model-artifact.format';
import type { EpochProgress } from '../runtime/epoch-progress.types';
import { runNow } from '../runtime/sliced-work.util';
import type { ProductText } from './text-features.extractor';
import { TextClassifier, type TextClassifierOptions } from './text.classifier';

/** What a network thread is started with. */
export interface NetworkRequest {
  texts: ProductText[];
  labels: number[];
  numClasses: number;
  options: Partial<TextClassifierOptions> & { seed: number };
}

/** What a network thread sends: each epoch's figures, then the trained model (or why it failed). */
export type NetworkReply = { progress: EpochProgress } | { model: SerializedComponent } | { error: string };

/**
 * Trains one text network in a worker thread of its own, so that an ensemble's networks (and its linear models, in
 * the calling thread) train on several cores at once. The model comes back as the files it is saved as, and is
 * loaded from them: what is calibrated after training is exactly what a replica will load.
 */
export function trainNetworkInThread(
  request: NetworkRequest,
  onEpoch?: (progress: EpochProgress) => void,
): Promise<TextClassifier> {
  return new Promise((resolve, reject) => {
    const worker = startWorkerThread(__dirname, 'text-network.worker', __filename, { workerData: request });
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      outcome();
      void worker.terminate();
    };
    worker.on('message', (reply: NetworkReply) => {
      if ('progress' in reply) onEpoch?.(reply.progress);
      else if ('model' in reply)
        settle(() => resolve(runNow(TextClassifier.deserialize(reply.model.manifest, reply.model.files))));
      else settle(() => reject(new Error(`text network thread: ${reply.error}`)));
    });
    worker.on('error', (error) => settle(() => reject(new Error(`text network thread: ${error.message}`))));
    worker.on('exit', (code) =>
      settle(() => reject(new Error(`text network thread stopped (exit code ${code}) before its model`))),
    );
  });
}
