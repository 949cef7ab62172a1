import { setImmediate as nextTurn } from 'node:timers/promises';

/**
 * Work written once as a generator that yields now and then (every few thousand items of a long loop), so that it
 * can run either at once (training, a thread of its own) or in slices with turns of the event loop between them (a
 * serving process loading a model while it answers requests).
 */
export type SlicedWork<T> = Generator<void, T, void>;

/** Items a long loop of sliced work handles between two yields: well under a millisecond of work. */
export const SLICE_ITEMS = 1 << 14;
/** `(i & SLICE_MASK) === 0` once every SLICE_ITEMS items. */
export const SLICE_MASK = SLICE_ITEMS - 1;

/** Runs the work to its end now. */
export function runNow<T>(work: SlicedWork<T>): T {
  for (;;) {
    const step = work.next();
    if (step.done) return step.value;
  }
}

/**
 * Runs the work, giving the event loop a turn whenever a slice has run `sliceMs`: requests and socket timers wait
 * at most about that long for it.
 */
export async function runInSlices<T>(work: SlicedWork<T>, sliceMs = 10): Promise<T> {
  let sliceStart = performance.now();
  for (;;) {
    const step = work.next();
    if (step.done) return step.value;
    if (performance.now() - sliceStart >= sliceMs) {
      await nextTurn();
      sliceStart = performance.now();
    }
  }
}
