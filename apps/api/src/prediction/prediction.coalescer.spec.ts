import type { Prediction, PredictionInput } from '@app/ml';
import { performance } from 'node:perf_hooks';
import { Registry } from 'prom-client';
import { AppConfig } from '@app/config';
import { LoadShedder, ShedError } from '../admission/load.shedder';
import type { ModelServingService } from '../serving/model-serving.service';
import { PredictionCoalescer } from './prediction.coalescer';

/** A model that answers each input with a prediction naming it, and records how it was called. */
function fakeServing(fail = false) {
  const calls: PredictionInput[][] = [];
  const released: number[] = [];
  const classifier = {
    async predict(inputs: PredictionInput[], topK: number): Promise<Prediction[]> {
      calls.push(inputs);
      if (fail) throw new Error('model exploded');
      return inputs.map((input) => {
        const top = Array.from({ length: topK }, (_, k) => ({
          prdtypecode: k,
          category: input.designation ?? 'image',
          probability: 1 / (k + 1),
        }));
        return { ...top[0], top, modality: 'text' as const };
      });
    },
  };
  const serving = {
    acquire: () => ({ model: { version: 'v1', classifier }, release: () => released.push(1) }),
  } as unknown as ModelServingService;
  return { serving, calls, released };
}

function shedder(registry = new Registry()): LoadShedder {
  return new LoadShedder(AppConfig.fromEnvironment({ SHED_RETRY_AFTER_SECONDS: '3' }), registry);
}

describe('PredictionCoalescer', () => {
  it('scores text requests made in the same turn as one batch and gives each its own answers', async () => {
    const { serving, calls, released } = fakeServing();
    const coalescer = new PredictionCoalescer(serving, shedder(), AppConfig.fromEnvironment({}));
    const [a, b] = await Promise.all([
      coalescer.classify([{ designation: 'a' }], 2),
      coalescer.classify([{ designation: 'b' }, { designation: 'c' }], 4),
    ]);
    expect(calls).toHaveLength(1);
    expect(calls[0].map((i) => i.designation)).toEqual(['a', 'b', 'c']);
    expect(a.modelVersion).toBe('v1');
    expect(a.predictions.map((p) => p.category)).toEqual(['a']);
    expect(a.predictions[0].top).toHaveLength(2);
    expect(b.predictions.map((p) => p.category)).toEqual(['b', 'c']);
    expect(b.predictions[1].top).toHaveLength(4);
    expect(released).toHaveLength(1);
  });

  it('scores a request with an image on its own, so its errors stay its own', async () => {
    const { serving, calls } = fakeServing();
    const coalescer = new PredictionCoalescer(serving, shedder(), AppConfig.fromEnvironment({}));
    await Promise.all([
      coalescer.classify([{ designation: 'a' }], 1),
      coalescer.classify([{ designation: 'b', image: Buffer.from('jpeg') }], 1),
    ]);
    expect(calls.map((c) => c.length).sort()).toEqual([1, 1]);
  });

  it('fails every request of the round when the model fails, and releases the model', async () => {
    const { serving, released } = fakeServing(true);
    const coalescer = new PredictionCoalescer(serving, shedder(), AppConfig.fromEnvironment({}));
    const results = await Promise.allSettled([
      coalescer.classify([{ designation: 'a' }], 1),
      coalescer.classify([{ designation: 'b' }], 1),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(released).toHaveLength(1);
  });

  it('starts a new round rather than grow one past 64 items', async () => {
    const { serving, calls } = fakeServing();
    const coalescer = new PredictionCoalescer(serving, shedder(), AppConfig.fromEnvironment({}));
    const many = Array.from({ length: 40 }, (_, i) => ({ designation: `t${i}` }));
    await Promise.all([coalescer.classify(many, 1), coalescer.classify(many, 1)]);
    expect(calls.map((c) => c.length)).toEqual([40, 40]);
  });

  it('refuses the requests whose deadline passed before the round was scored, and counts them', async () => {
    const { serving, calls } = fakeServing();
    const registry = new Registry();
    const coalescer = new PredictionCoalescer(serving, shedder(registry), AppConfig.fromEnvironment({}));
    const [late, onTime, unbounded, lateImage] = await Promise.allSettled([
      coalescer.classify([{ designation: 'late' }], 1, performance.now() - 1),
      coalescer.classify([{ designation: 'on time' }], 1, performance.now() + 60_000),
      coalescer.classify([{ designation: 'unbounded' }], 1),
      coalescer.classify([{ designation: 'image', image: Buffer.from('jpeg') }], 1, performance.now() - 1),
    ]);
    for (const refused of [late, lateImage]) {
      expect(refused.status).toBe('rejected');
      const error = (refused as PromiseRejectedResult).reason as ShedError;
      expect(error).toBeInstanceOf(ShedError);
      expect(error.retryAfterSeconds).toBe(3);
    }
    expect([onTime.status, unbounded.status]).toEqual(['fulfilled', 'fulfilled']);
    expect(calls.map((c) => c.map((i) => i.designation))).toEqual([['on time', 'unbounded']]);
    expect(await registry.getSingleMetricAsString('prediction_requests_shed_total')).toContain(
      'prediction_requests_shed_total{reason="queue_wait"} 2',
    );
  });

  it('scores a large batch 64 items at a time, letting other requests be scored between slices', async () => {
    const { serving, calls } = fakeServing();
    const coalescer = new PredictionCoalescer(serving, shedder(), AppConfig.fromEnvironment({}));
    const batch = Array.from({ length: 150 }, (_, i) => ({ designation: `b${i}` }));
    const large = coalescer.classify(batch, 1);
    const single = coalescer.classify([{ designation: 'single' }], 1);
    const [answer] = await Promise.all([large, single]);
    expect(answer.predictions.map((p) => p.category)).toEqual(batch.map((item) => item.designation));
    expect(calls.map((c) => c.length)).toEqual([64, 1, 64, 22]);
  });

  it('scores a large batch in one call when scoring threads share it out', async () => {
    const { serving, calls } = fakeServing();
    const threads = AppConfig.fromEnvironment({ SCORING_THREADS: '2' });
    const coalescer = new PredictionCoalescer(serving, shedder(), threads);
    await coalescer.classify(
      Array.from({ length: 150 }, (_, i) => ({ designation: `b${i}` })),
      1,
    );
    expect(calls.map((c) => c.length)).toEqual([150]);
  });
});
