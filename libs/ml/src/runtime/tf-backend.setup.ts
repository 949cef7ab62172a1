import * as tf from '@tensorflow/tfjs';
import { AppConfig } from '@app/config';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

// Held in a variable so TypeScript does not demand the optional package at compile time.
const NATIVE_BINDING = '@tensorflow/tfjs-node';

let active: Promise<BackendName> | undefined;

/**
 * Selects the fastest TensorFlow.js backend that loads here: the native `tfjs-node` binding (only installable
 * where libtensorflow can be downloaded, e.g. in the Docker image), else WebAssembly, else plain JS.
 * `tf.setBackend` silently falls back on failure, so each step checks what actually became active.
 * The choice is made once per process; `TFJS_BACKEND` forces one (tests use it to pin `cpu` or `wasm`).
 */
export function initBackend(log: (message: string) => void = () => undefined): Promise<BackendName> {
  active ??= select(log);
  return active;
}

async function select(log: (message: string) => void): Promise<BackendName> {
  const forced: BackendName | undefined = AppConfig.setting('TFJS_BACKEND');
  const order: BackendName[] = forced ? [forced] : ['tensorflow', 'wasm', 'cpu'];
  for (const name of order) {
    if (await tryBackend(name)) {
      log(`TensorFlow.js backend: ${name}`);
      return name;
    }
  }
  throw new Error(`No TensorFlow.js backend could be started (tried ${order.join(', ')})`);
}

async function tryBackend(name: BackendName): Promise<boolean> {
  try {
    if (name === 'tensorflow') await import(NATIVE_BINDING);
    if (name === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
    const ok = await tf.setBackend(name);
    await tf.ready();
    return ok && tf.getBackend() === name;
  } catch {
    return false;
  }
}

export { tf };
