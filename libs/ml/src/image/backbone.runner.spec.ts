import { BackboneThreadPool, BackboneUnavailableError, InThreadBackboneRunner } from './backbone.runner';
import { DEFAULT_BACKBONE } from './pretrained-backbone.model';

const SIZE = DEFAULT_BACKBONE.size;
const image = (value: number) => new Uint8Array(SIZE * SIZE * 3).map((_, i) => (i * value) % 256);

describe('backbone runners', () => {
  let pool: BackboneThreadPool;
  const local = new InThreadBackboneRunner();

  beforeAll(() => {
    pool = new BackboneThreadPool(2);
  });

  afterAll(() => {
    pool.dispose();
    local.dispose();
  });

  it('extracts in worker threads the same features as in the calling thread, in input order', async () => {
    const images = [image(3), image(7), image(11)];
    const expected = await local.extract(DEFAULT_BACKBONE, images);
    await expect(pool.extract(DEFAULT_BACKBONE, images)).resolves.toEqual(expected);
  });

  it('runs at most one image per thread: the rest wait their turn, and all are answered', async () => {
    await pool.warm(DEFAULT_BACKBONE);
    const burst = pool.extract(
      DEFAULT_BACKBONE,
      Array.from({ length: 6 }, (_, i) => image(i + 2)),
    );
    expect(pool.queued).toBe(4);
    const features = await burst;
    expect(features).toHaveLength(6);
    expect(pool.queued).toBe(0);
  });

  it('keeps the event loop free while it extracts', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    await pool.extract(DEFAULT_BACKBONE, [image(5), image(6), image(9), image(13)]);
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(2);
  });

  it('fails what waits once closed, with an error that says so', async () => {
    const closing = new BackboneThreadPool(1);
    const pending = closing.extract(DEFAULT_BACKBONE, [image(2), image(4)]);
    closing.dispose();
    await expect(pending).rejects.toBeInstanceOf(BackboneUnavailableError);
    await expect(closing.extract(DEFAULT_BACKBONE, [image(2)])).rejects.toThrow('the pool was closed');
  });
});
