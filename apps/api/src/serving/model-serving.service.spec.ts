import { Registry } from 'prom-client';
import type { AppConfig } from '@app/config';
import { ImageDecoder, ProductClassifier } from '@app/ml';
import type { ModelRegistry, ProductionState } from '@app/registry';
import { MetricsService } from '../metrics/metrics.service';
import { ModelServingService, NoModelLoadedError } from './model-serving.service';

/** A classifier stand-in that records whether it was disposed; loading is the only thing faked here. */
function fakeClassifier() {
  const classifier = { score: jest.fn(), dispose: jest.fn(), imageSize: undefined, scoringThreads: 0 };
  return classifier as unknown as ProductClassifier & { dispose: jest.Mock };
}

describe('ModelServingService', () => {
  let production: ProductionState;
  let loads: Record<string, ProductClassifier & { dispose: jest.Mock }>;
  let failing: Set<string>;
  let serving: ModelServingService;

  beforeEach(() => {
    production = { version: null, revision: 0, updatedAt: null };
    loads = {};
    failing = new Set();
    jest.spyOn(ProductClassifier, 'load').mockImplementation(async (dir: string) => {
      const version = dir.split('/').pop()!;
      if (failing.has(version)) throw new Error(`${version} is broken`);
      return (loads[version] = fakeClassifier());
    });
    const registry = {
      production: async () => production,
      fetch: async (version: string, root: string) => `${root}/${version}`,
    } as unknown as ModelRegistry;
    serving = new ModelServingService(registry, new MetricsService(new Registry()), new ImageDecoder(), {
      env: { VAR_DIR: '/tmp/x' },
    } as AppConfig);
  });

  afterEach(() => jest.restoreAllMocks());

  it('refuses to serve before a model is loaded', () => {
    expect(() => serving.acquire()).toThrow(NoModelLoadedError);
  });

  it('follows the registry and swaps to the new production version', async () => {
    production = { version: 'v1', revision: 1, updatedAt: new Date() };
    await serving.syncWithRegistry();
    expect(serving.current?.version).toBe('v1');
    production = { version: 'v2', revision: 2, updatedAt: new Date() };
    await serving.syncWithRegistry();
    expect(serving.current?.version).toBe('v2');
    expect(loads.v1.dispose).toHaveBeenCalledTimes(1);
  });

  it('keeps a retired model alive until the requests using it have finished', async () => {
    await serving.activate('v1');
    const lease = serving.acquire();
    await serving.activate('v2');
    expect(lease.model.version).toBe('v1');
    expect(loads.v1.dispose).not.toHaveBeenCalled();
    lease.release();
    lease.release();
    expect(loads.v1.dispose).toHaveBeenCalledTimes(1);
  });

  it('keeps serving the old version when the new one does not load', async () => {
    await serving.activate('v1');
    failing.add('v2');
    await expect(serving.activate('v2')).rejects.toThrow('v2 is broken');
    expect(serving.current?.version).toBe('v1');
    expect(loads.v1.dispose).not.toHaveBeenCalled();
  });

  it('applies swaps in the order they were asked for', async () => {
    await Promise.all([serving.activate('v1'), serving.activate('v2'), serving.activate('v3')]);
    expect(serving.current?.version).toBe('v3');
    expect(loads.v1.dispose).toHaveBeenCalled();
    expect(loads.v2.dispose).toHaveBeenCalled();
  });

  it('loads a prepared version once and disposes it when the promotion is abandoned', async () => {
    const [a, b] = await Promise.all([serving.prepare('v1'), serving.prepare('v1')]);
    expect(a).toBe(b);
    serving.discard('v1');
    await new Promise((done) => setImmediate(done));
    expect(loads.v1.dispose).toHaveBeenCalledTimes(1);
  });
});
