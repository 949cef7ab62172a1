import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import type { ProductExample } from '../data/product.types';
import { BackboneThreadPool, InThreadBackboneRunner } from '../image/backbone.runner';
import { extractImageFeatures } from '../image/image-features.extractor';
import { decodeImage } from '../image/image.decoder';
import { DEFAULT_BACKBONE } from '../image/pretrained-backbone.model';
import { trainProductClassifier } from '../fitting/product-classifier.trainer';
import type { ImageCache } from '../fitting/training.types';
import { InvalidInputError, ProductClassifier } from './product.classifier';

const SIZE = 32;
const CLASSES = [
  { code: 10, words: ['livre', 'roman', 'poche', 'auteur'], rgb: [220, 20, 20] },
  { code: 2583, words: ['piscine', 'pompe', 'filtre', 'bache'], rgb: [20, 40, 230] },
  { code: 1560, words: ['table', 'chaise', 'armoire', 'bois'], rgb: [30, 200, 30] },
] as const;

function solid(rgb: readonly number[], jitter: number): Uint8Array {
  const pixels = new Uint8Array(SIZE * SIZE * 3);
  for (let i = 0; i < pixels.length; i++)
    pixels[i] = Math.max(0, Math.min(255, rgb[i % 3] + ((jitter * 13 + i) % 21) - 10));
  return pixels;
}

describe('ProductClassifier', () => {
  let classifier: ProductClassifier;
  let textOnly: ProductClassifier;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'classifier-'));
    const products: ProductExample[] = [];
    const imageOnly: ProductExample[] = [];
    const cache: ImageCache = { source: `handmade/${SIZE}`, features: new Map(), unreadable: [] };
    CLASSES.forEach(({ code, words, rgb }) => {
      for (let i = 0; i < 30; i++) {
        const imagePath = `/virtual/${code}-${i}.jpg`;
        cache.features.set(imagePath, extractImageFeatures(solid(rgb, i), SIZE));
        products.push({
          designation: `${words[i % 4]} ${words[(i + 1) % 4]} ref ${i}`,
          description: i % 2 ? `très bon ${words[(i + 2) % 4]}` : '',
          label: code,
          imagePath: i % 3 === 0 ? imagePath : undefined,
          origin: { file: 'synthetic', row: i + 2 },
        });
        if (i % 3 !== 0)
          imageOnly.push({
            designation: '',
            description: '',
            label: code,
            imagePath,
            origin: { file: 'synthetic', row: i + 2 },
          });
      }
    });
    const data = {
      products,
      extraText: [],
      imageOnly,
      categoryNames: { 10: 'Livres occasion', 2583: 'Piscines', 1560: 'Mobilier' },
    };
    const options = {
      seed: 3,
      withImages: true,
      imageWeight: 0.5,
      imageFeatures: 'handmade' as const,
      imageSize: SIZE,
    };
    classifier = (await trainProductClassifier(data, options, () => undefined, cache)).classifier;
    textOnly = (await trainProductClassifier(data, { ...options, withImages: false }, () => undefined))
      .classifier;
  });

  afterAll(() => {
    classifier.dispose();
    textOnly.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A flat PNG of the class colour, as a photo would arrive: encoded, then decoded by the classifier. */
  const png = (rgb: readonly number[]) =>
    sharp({ create: { width: 40, height: 40, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } })
      .png()
      .toBuffer();

  it('answers a title with the code, its category name, a probability and the top classes', async () => {
    const [prediction] = await classifier.predict([{ designation: 'piscine avec pompe' }], 3);
    expect(prediction).toEqual(
      expect.objectContaining({ prdtypecode: 2583, category: 'Piscines', modality: 'text' }),
    );
    expect(prediction.top).toHaveLength(3);
    expect(prediction.top.reduce((s, t) => s + t.probability, 0)).toBeCloseTo(1, 4);
    expect(prediction.top[0].probability).toBeGreaterThanOrEqual(prediction.top[1].probability);
  });

  it('uses the image alone when there is no text, and both when there are both', async () => {
    const [byImage, both] = await classifier.predict([
      { image: await png(CLASSES[2].rgb) },
      { designation: 'roman de poche', image: await png(CLASSES[0].rgb) },
    ]);
    expect(byImage.modality).toBe('image');
    expect(byImage.prdtypecode).toBe(1560);
    expect(both.modality).toBe('text+image');
    expect(both.prdtypecode).toBe(10);
  });

  it('says when it leaves a photo out: a model without an image part answers from the text and warns', async () => {
    const photo = await png(CLASSES[2].rgb);
    const [withoutImagePart] = await textOnly.predict([{ designation: 'roman de poche', image: photo }]);
    const [textAlone] = await textOnly.predict([{ designation: 'roman de poche' }]);
    expect(withoutImagePart).toEqual({
      ...textAlone,
      warnings: [
        'this model has no image part: the image was not used, the answer comes from the text alone',
      ],
    });
    expect(textAlone).not.toHaveProperty('warnings');
    const [both] = await classifier.predict([{ designation: 'roman de poche', image: photo }]);
    expect(both.modality).toBe('text+image');
    expect(both).not.toHaveProperty('warnings');
    await expect(textOnly.predict([{ image: photo }])).rejects.toThrow(
      /has no image component; give a designation/,
    );
  });

  it('lists the top classes as a stable sort of all classes would, for any k', async () => {
    const inputs = [{ designation: 'table en bois' }, { designation: '', description: 'roman piscine' }];
    const scores = await classifier.score(inputs.map((text) => ({ text: { description: '', ...text } })));
    for (const k of [1, 2, 3, 5]) {
      const predictions = await classifier.predict(inputs, k);
      predictions.forEach((prediction, row) => {
        const p = scores.subarray(row * 3, row * 3 + 3);
        const order = [0, 1, 2].sort((a, b) => p[b] - p[a]).slice(0, k);
        expect(prediction.top.map((t) => t.prdtypecode)).toEqual(order.map((c) => classifier.classes[c]));
        expect(prediction.top.map((t) => t.probability)).toEqual(order.map((c) => p[c]));
      });
    }
  });

  it('answers a batch in input order', async () => {
    const predictions = await classifier.predict([
      { designation: 'table en bois' },
      { designation: 'roman' },
      { designation: 'bache piscine' },
    ]);
    expect(predictions.map((p) => p.prdtypecode)).toEqual([1560, 10, 2583]);
  });

  it.each([
    [
      'no text and no image',
      { designation: '  ', description: '' },
      /give a designation, a description or an image/,
    ],
    [
      'bytes that are not an image',
      { designation: 'x', image: Buffer.from('hello world, not an image') },
      /not a JPEG, PNG or WebP/,
    ],
  ])('refuses an item with %s, naming the item', async (_, input, message) => {
    const attempt = classifier.predict([{ designation: 'ok' }, input]);
    await expect(attempt).rejects.toThrow(InvalidInputError);
    await expect(classifier.predict([{ designation: 'ok' }, input])).rejects.toThrow(/item 1/);
    await expect(classifier.predict([input])).rejects.toThrow(message);
  });

  it('saves and loads to the same predictions, and refuses a corrupted copy', async () => {
    const modelDir = join(dir, 'model');
    await classifier.save(modelDir, { metrics: { note: 'test' } });
    const loaded = await ProductClassifier.load(modelDir);
    const inputs = [
      { designation: 'armoire', description: 'bois massif' },
      { image: await png(CLASSES[1].rgb) },
    ];
    expect(await loaded.predict(inputs)).toEqual(await classifier.predict(inputs));
    loaded.dispose();

    writeFileSync(join(modelDir, 'text-neural-0', 'kernel2.f32.bin'), Buffer.alloc(8));
    await expect(ProductClassifier.load(modelDir)).rejects.toThrow(
      /checksum mismatch for text-neural-0\/kernel2/,
    );
  });
});

describe('ProductClassifier with the pretrained backbone', () => {
  let dir: string;
  let classifier: ProductClassifier;

  /** A photo of a coloured shape (disc, bar, square) on white, as JPEG bytes. */
  const photo = async (shape: number, jitter: number): Promise<Buffer> => {
    const s = 96;
    const pixels = Buffer.alloc(s * s * 3, 255);
    for (let y = 0; y < s; y++)
      for (let x = 0; x < s; x++) {
        const dx = x - s / 2 - jitter;
        const dy = y - s / 2;
        const inside =
          shape === 0
            ? dx * dx + dy * dy < 900
            : shape === 1
              ? Math.abs(dy) < 8
              : Math.max(Math.abs(dx), Math.abs(dy)) < 25;
        if (inside) pixels.set(CLASSES[shape].rgb, (y * s + x) * 3);
      }
    return sharp(pixels, { raw: { width: s, height: s, channels: 3 } })
      .jpeg()
      .toBuffer();
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'classifier-backbone-'));
    const products: ProductExample[] = [];
    for (const [k, { code, words }] of CLASSES.entries()) {
      for (let i = 0; i < 6; i++) {
        const imagePath = join(dir, `${code}-${i}.jpg`);
        writeFileSync(imagePath, await photo(k, i * 3 - 8));
        products.push({
          designation: `${words[i % 4]} ${words[(i + 1) % 4]}`,
          description: '',
          label: code,
          imagePath,
          origin: { file: 'synthetic', row: i + 2 },
        });
      }
    }
    const data = { products, extraText: [], imageOnly: [], categoryNames: {} };
    const options = {
      seed: 1,
      withImages: true,
      imageWeight: 1,
      imageFeatures: 'backbone' as const,
      imageSize: 64,
    };
    classifier = (await trainProductClassifier(data, options, () => undefined)).classifier;
  });

  afterAll(() => {
    classifier.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads the photo through the backbone, saves it in the artifact, and loads it to the same answers', async () => {
    expect(classifier.imageSize).toBe(224);
    expect(classifier.imageFeatureSource).toMatch(/^mobilenet_v2_mid@/);
    const inputs = [{ image: await photo(0, 2) }, { designation: 'table bois', image: await photo(2, 0) }];
    const answers = await classifier.predict(inputs);
    expect(answers.map((a) => a.modality)).toEqual(['image', 'text+image']);
    expect(answers[0].prdtypecode).toBe(10);

    const modelDir = join(dir, 'model');
    await classifier.save(modelDir, {});
    const pool = new BackboneThreadPool(1);
    const loaded = await ProductClassifier.load(modelDir, { backbones: pool });
    expect(await loaded.predict(inputs)).toEqual(answers);
    loaded.dispose();
    pool.dispose();
  });

  it('takes features computed beforehand as the photo itself', async () => {
    const bytes = await photo(1, 4);
    const pixels = await decodeImage(bytes, 224);
    const runner = new InThreadBackboneRunner();
    const [features] = await runner.extract(DEFAULT_BACKBONE, [pixels]);
    runner.dispose();
    const fromPixels = await classifier.score([{ pixels }]);
    expect(await classifier.score([{ imageFeatures: features }])).toEqual(fromPixels);
  });
});
