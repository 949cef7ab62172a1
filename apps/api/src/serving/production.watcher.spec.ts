import type { AppConfig } from '@app/config';
import type { ModelServingService } from './model-serving.service';
import { ProductionWatcher } from './production.watcher';

describe('ProductionWatcher', () => {
  it('runs one more registry check when asked during a check, so a late announcement is not lost', async () => {
    const releases: (() => void)[] = [];
    const syncWithRegistry = jest.fn(() => new Promise<void>((done) => releases.push(done)));
    const watcher = new ProductionWatcher(
      { syncWithRegistry } as unknown as ModelServingService,
      { env: {} } as AppConfig,
    );
    const first = watcher.sync();
    const second = watcher.sync();
    const third = watcher.sync();
    expect(syncWithRegistry).toHaveBeenCalledTimes(1);
    releases[0]();
    await first;
    await new Promise((done) => setImmediate(done));
    expect(syncWithRegistry).toHaveBeenCalledTimes(2);
    releases[1]();
    await Promise.all([second, third]);
    expect(syncWithRegistry).toHaveBeenCalledTimes(2);
  });

  it('keeps following after a failed check', async () => {
    const syncWithRegistry = jest
      .fn()
      .mockRejectedValueOnce(new Error('database down'))
      .mockResolvedValue(undefined);
    const watcher = new ProductionWatcher(
      { syncWithRegistry } as unknown as ModelServingService,
      { env: {} } as AppConfig,
    );
    await expect(watcher.sync()).resolves.toBeUndefined();
    await watcher.sync();
    expect(syncWithRegistry).toHaveBeenCalledTimes(2);
  });
});
