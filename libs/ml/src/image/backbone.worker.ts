import { parentPort } from 'node:worker_threads';
import { BackboneCache, type BackboneReply, type BackboneRequest } from './backbone.runner';

/** A thread of a BackboneThreadPool: extracts one image's features per message (a null image only loads). */
const backbones = new BackboneCache();
const port = parentPort!;
port.on('message', ({ id, spec, pixels }: BackboneRequest) => {
  backbones.get(spec).then(
    (backbone) => {
      try {
        const features = pixels && backbone.extract(pixels);
        port.postMessage({ id, features } satisfies BackboneReply);
      } catch (error) {
        port.postMessage({ id, error: (error as Error).message } satisfies BackboneReply);
      }
    },
    (error: Error) =>
      port.postMessage({
        id,
        error: `the backbone cannot be loaded: ${error.message}`,
      } satisfies BackboneReply),
  );
});
