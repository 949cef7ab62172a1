import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import type { ProductExample } from '../data/product.types';
import type { BackboneRunner } from '../image/backbone.runner';
import { InThreadBackboneRunner } from '../image/backbone.runner';
import { backboneSource, featureFolder } from '../image/image.featurizer';
import { DEFAULT_BACKBONE, type BackboneSpec } from '../image/pretrained-backbone.model';
import { extractDatasetFeatures, type ImageFeatureStore } from './dataset-images.loader';

/** The artifact store's contract, in memory. */
class MemoryStore implements ImageFeatureStore {
  readonly objects = new Map<string, Uint8Array>();
  async list(prefix: string) {
    return [...this.objects.keys()].filter((key) => key.startsWith(prefix)).sort();
  }
  async get(key: string) {
    const body = this.objects.get(key);
    if (!body) throw new Error(`no ${key}`);
    return body;
  }
  async put(key: string, body: Uint8Array) {
    this.objects.set(key, body.slice());
  }
}

/** Counts the images it is asked to extract. */
class CountingRunner implements BackboneRunner {
  extracted = 0;
  private readonly inner = new InThreadBackboneRunner();
  extract(spec: BackboneSpec, pixels: Uint8Array[]) {
    this.extracted += pixels.length;
    return this.inner.extract(spec, pixels);
  }
  warm(spec: BackboneSpec) {
    return this.inner.warm(spec);
  }
  dispose() {
    this.inner.dispose();
  }
}

describe('extractDatasetFeatures', () => {
  let dir: string;
  let examples: ProductExample[];
  const runner = new CountingRunner();
  const source = backboneSource(DEFAULT_BACKBONE);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'features-'));
    const colours = [
      { r: 200, g: 30, b: 30 },
      { r: 30, g: 60, b: 220 },
      { r: 40, g: 180, b: 40 },
    ];
    examples = [];
    for (const [i, background] of colours.entries()) {
      const path = join(dir, `photo-${i}.jpg`);
      writeFileSync(
        path,
        await sharp({ create: { width: 60, height: 50, channels: 3, background } })
          .jpeg()
          .toBuffer(),
      );
      examples.push({
        designation: '',
        description: '',
        label: 10,
        imagePath: path,
        origin: { file: 'x', row: i },
      });
    }
    // The same photo twice, and a file that is not an image.
    examples.push({ ...examples[0] });
    writeFileSync(join(dir, 'broken.jpg'), 'not an image');
    examples.push({ ...examples[0], imagePath: join(dir, 'broken.jpg') });
  });

  afterAll(() => {
    runner.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('extracts each photo once, stores its features under its content hash, and reads them back next time', async () => {
    const store = new MemoryStore();
    const first = await extractDatasetFeatures(examples, source, () => undefined, {
      backbones: runner,
      store,
    });
    expect(runner.extracted).toBe(3);
    expect(first.features.size).toBe(3);
    expect(first.unreadable).toEqual([join(dir, 'broken.jpg')]);
    const photo = examples[0].imagePath!;
    const sha = createHash('sha256').update(readFileSync(photo)).digest('hex');
    expect(store.objects.has(`${featureFolder(source)}${sha}`)).toBe(true);
    expect(store.objects.size).toBe(3);

    const lines: string[] = [];
    const second = await extractDatasetFeatures(examples, source, (line) => lines.push(line), {
      backbones: runner,
      store,
    });
    expect(runner.extracted).toBe(3);
    expect(second.source).toBe(first.source);
    for (const [path, features] of first.features) expect(second.features.get(path)).toEqual(features);
    expect(lines[0]).toContain('3 of 4 images, 3 from the cache');
  });

  it('keeps the features of each source apart: another source extracts again', async () => {
    const store = new MemoryStore();
    await extractDatasetFeatures(examples, source, () => undefined, { backbones: runner, store });
    const before = runner.extracted;
    const other = backboneSource({ ...DEFAULT_BACKBONE, layers: ['Conv_1/Relu6'] });
    const features = await extractDatasetFeatures(examples, other, () => undefined, {
      backbones: runner,
      store,
    });
    expect(runner.extracted).toBe(before + 3);
    expect([...features.features.values()][0]).toHaveLength(1792);
    expect(await store.list(featureFolder(other))).toHaveLength(3);
  });
});
