import { Registry } from 'prom-client';
import { AppConfig } from '@app/config';
import type { PredictionImages } from '@app/feedback';
import { MetricsService } from '../metrics/metrics.service';
import { PredictionImageSaver } from './prediction-image.saver';

/** A store that holds every save until the test lets it finish, or fails the ones it is told to. */
class HeldImages {
  readonly saved: string[] = [];
  private release!: () => void;
  private readonly gate = new Promise<void>((resolve) => (this.release = resolve));
  failing = new Set<string>();

  async save(_bytes: Uint8Array, sha: string) {
    await this.gate;
    if (this.failing.has(sha)) throw new Error('the store is down');
    this.saved.push(sha);
    return { sha256: sha, result: 'stored' as const };
  }

  finish(): void {
    this.release();
  }
}

describe('PredictionImageSaver', () => {
  const MiB = 1024 * 1024;
  let images: HeldImages;
  let metrics: MetricsService;
  let saver: PredictionImageSaver;
  const counted = async () =>
    Object.fromEntries(
      (await metrics.predictionImages.get()).values.map((v) => [v.labels.result as string, v.value]),
    );

  beforeEach(() => {
    images = new HeldImages();
    metrics = new MetricsService(new Registry());
    saver = new PredictionImageSaver(
      images as unknown as PredictionImages,
      metrics,
      AppConfig.fromEnvironment({}),
    );
  });

  it('drops photos past the pending-bytes cap, saves the others, and never throws', async () => {
    const photo = Buffer.alloc(30 * MiB);
    expect(() => {
      saver.keep(photo, 'a'.repeat(64));
      saver.keep(photo, 'b'.repeat(64));
      saver.keep(photo, 'c'.repeat(64));
    }).not.toThrow();
    // The same photo again while its save is pending is not saved twice.
    saver.keep(photo, 'a'.repeat(64));
    images.finish();
    await saver.idle();
    expect(images.saved.sort()).toEqual(['a'.repeat(64), 'b'.repeat(64)]);
    expect(await counted()).toEqual({ dropped: 1, existing: 1, stored: 2 });
    // Room again once the saves are done.
    saver.keep(photo, 'c'.repeat(64));
    await saver.idle();
    expect(images.saved).toContain('c'.repeat(64));
  });

  it('counts a photo the store refuses as failed', async () => {
    images.failing.add('d'.repeat(64));
    saver.keep(Buffer.from('photo'), 'd'.repeat(64));
    images.finish();
    await saver.idle();
    expect(await counted()).toEqual({ failed: 1 });
  });

  it('keeps nothing with KEEP_PREDICTION_IMAGES=false', async () => {
    const off = new PredictionImageSaver(
      images as unknown as PredictionImages,
      metrics,
      AppConfig.fromEnvironment({ KEEP_PREDICTION_IMAGES: 'false' }),
    );
    off.keep(Buffer.from('photo'), 'e'.repeat(64));
    images.finish();
    await off.idle();
    expect(images.saved).toEqual([]);
    expect(await counted()).toEqual({});
  });
});
