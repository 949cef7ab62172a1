import { parentPort, workerData } from 'node:worker_threads';
import type { NetworkReply, NetworkRequest } from './text-network.thread';
import { TextClassifier } from './text.classifier';

/** A thread that trains one text network (see trainNetworkInThread) and sends it back as artifact files. */
async function train(): Promise<void> {
  const port = parentPort!;
  const { texts, labels, numClasses, options } = workerData as NetworkRequest;
  try {
    const model = await TextClassifier.train(texts, labels, numClasses, options, (progress) =>
      port.postMessage({ progress } satisfies NetworkReply),
    );
    port.postMessage({ model: model.serialize() } satisfies NetworkReply);
  } catch (error) {
    port.postMessage({ error: (error as Error).message } satisfies NetworkReply);
  }
}

void train();
