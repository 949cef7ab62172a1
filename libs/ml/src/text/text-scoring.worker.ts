import { parentPort, workerData } from 'node:worker_threads';
import { readModelArtifact } from '../artifacts/model-artifact.format';
import { TextEnsemble } from './text-ensemble.classifier';
import type { ScoringReply, ScoringRequest, WorkerStarted } from './text-scoring.pool';

/** A thread of a TextScoringPool: loads the text models of one artifact and scores the batches it is sent. */
async function serve(): Promise<void> {
  const port = parentPort!;
  const { dir } = workerData as { dir: string };
  let ensemble: TextEnsemble;
  try {
    const { components } = await readModelArtifact(dir, TextEnsemble.isComponent);
    ensemble = await TextEnsemble.deserialize(components, { consumeFiles: true });
    // The first call builds the shared vocabulary index and compiles the kernels: not a real request's cost.
    ensemble.predictProba([{ designation: 'Chargeur universel', description: 'Compatible tous modèles' }]);
  } catch (error) {
    port.postMessage({ ready: false, error: (error as Error).message } satisfies WorkerStarted);
    return;
  }
  port.on('message', ({ id, texts }: ScoringRequest) => {
    try {
      const probabilities = ensemble.predictProba(texts);
      port.postMessage({ id, probabilities } satisfies ScoringReply, [probabilities.buffer as ArrayBuffer]);
    } catch (error) {
      port.postMessage({ id, error: (error as Error).message } satisfies ScoringReply);
    }
  });
  port.postMessage({ ready: true } satisfies WorkerStarted);
}

void serve();
