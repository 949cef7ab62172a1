import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { rakutenDataDir } from '../data/data-location.util';
import { imageClaimingSize } from '../testing/oversized-images.fixture';
import {
  checkImageHeader,
  decodeImage,
  decodeImageFiles,
  ImageDecodeError,
  ImageDecoder,
  ImageTooLargeError,
  sniffImageFormat,
} from './image.decoder';

const SIZE = 16;

async function solidImage(format: 'png' | 'webp' | 'jpeg', rgb: [number, number, number]): Promise<Buffer> {
  const base = sharp({
    create: { width: 40, height: 30, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } },
  });
  if (format === 'png') return base.png().toBuffer();
  if (format === 'webp') return base.webp({ lossless: true }).toBuffer();
  return base.jpeg({ quality: 95 }).toBuffer();
}

async function waitFor(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met within 5 s');
    await new Promise((done) => setTimeout(done, 5));
  }
}

function meanChannel(pixels: Uint8Array, channel: number): number {
  let sum = 0;
  for (let i = channel; i < pixels.length; i += 3) sum += pixels[i];
  return sum / (pixels.length / 3);
}

describe('image decoder', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'image-decoder-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('sniffs formats by magic bytes', async () => {
    expect(sniffImageFormat(await solidImage('jpeg', [0, 0, 0]))).toBe('jpeg');
    expect(sniffImageFormat(await solidImage('png', [0, 0, 0]))).toBe('png');
    expect(sniffImageFormat(await solidImage('webp', [0, 0, 0]))).toBe('webp');
    expect(sniffImageFormat(Buffer.from('hello world'))).toBeUndefined();
    expect(sniffImageFormat(new Uint8Array(0))).toBeUndefined();
    expect(sniffImageFormat(Buffer.from('RIFF\0\0\0\0WAVE'))).toBeUndefined();
  });

  it('decodes PNG and WebP to size×size×3 RGB', async () => {
    const png = await decodeImage(await solidImage('png', [255, 0, 0]), SIZE);
    expect(png).toHaveLength(SIZE * SIZE * 3);
    expect(meanChannel(png, 0)).toBeCloseTo(255, 0);
    expect(meanChannel(png, 2)).toBeCloseTo(0, 0);
    const webp = await decodeImage(await solidImage('webp', [0, 0, 255]), SIZE);
    expect(webp).toHaveLength(SIZE * SIZE * 3);
    expect(meanChannel(webp, 2)).toBeCloseTo(255, 0);
  });

  it('drops the alpha channel of a transparent PNG', async () => {
    const rgba = await sharp({
      create: { width: 8, height: 8, channels: 4, background: { r: 0, g: 255, b: 0, alpha: 0.5 } },
    })
      .png()
      .toBuffer();
    expect(await decodeImage(rgba, SIZE)).toHaveLength(SIZE * SIZE * 3);
  });

  const dataDir = rakutenDataDir();
  (dataDir ? it : it.skip)('decodes a real Rakuten JPEG from a path', async () => {
    const imagesDir = join(dataDir as string, 'images');
    const first = (await readdir(imagesDir)).find((name) => name.endsWith('.jpg')) as string;
    const pixels = await decodeImage(join(imagesDir, first), 64);
    expect(pixels).toHaveLength(64 * 64 * 3);
    expect(new Set(pixels).size).toBeGreaterThan(10);
  });

  it('rejects a truncated JPEG, random bytes and text with ImageDecodeError', async () => {
    const jpeg = await sharp({
      create: { width: 64, height: 64, channels: 3, background: { r: 10, g: 200, b: 30 } },
    })
      .jpeg()
      .toBuffer();
    const truncated = jpeg.subarray(0, Math.floor(jpeg.length / 2));
    await expect(decodeImage(truncated, SIZE)).rejects.toThrow(ImageDecodeError);
    await expect(decodeImage(truncated, SIZE)).rejects.toThrow(/image could not be decoded/);

    const random = Buffer.from(Array.from({ length: 500 }, (_, i) => (i * 73 + 11) % 256));
    await expect(decodeImage(random, SIZE)).rejects.toThrow('not a JPEG, PNG or WebP image');

    const textPath = join(dir, 'notes.txt');
    await writeFile(textPath, 'this is not an image\n');
    await expect(decodeImage(textPath, SIZE)).rejects.toThrow(ImageDecodeError);
  });

  describe('dimension limits', () => {
    const limits = { maxPixels: 50_000_000, maxSide: 12_000 };

    it.each([
      ['png', 100_000, 100_000],
      ['jpeg', 60_000, 60_000],
      ['webp', 16_383, 16_383],
      ['png', 200_000, 1000],
      ['webp', 15_000, 100],
    ] as const)(
      'refuses a %s whose header claims %i×%i pixels, from the header',
      async (format, width, height) => {
        const bytes = await imageClaimingSize(format, width, height);
        expect(bytes.length).toBeLessThan(1000);
        const refusal = decodeImage(bytes, SIZE, limits);
        await expect(refusal).rejects.toThrow(ImageTooLargeError);
        await expect(refusal).rejects.toThrow(`the image is ${width}×${height} pixels`);
        await expect(checkImageHeader(bytes, limits)).rejects.toMatchObject({
          width,
          height,
          pixelsExceeded: width * height > limits.maxPixels,
          sideExceeded: true,
        });
      },
    );

    it('names which limit an image exceeds', async () => {
      const square = await imageClaimingSize('jpeg', 9000, 9000);
      await expect(checkImageHeader(square, limits)).rejects.toMatchObject({
        pixelsExceeded: true,
        sideExceeded: false,
      });
    });

    it('refuses real images past the limits without decoding them, and decodes those within', async () => {
      // Compressible: a few KB on disk, tens of megapixels decoded.
      const wide = await sharp({
        create: { width: 13_000, height: 200, channels: 3, background: { r: 5, g: 5, b: 5 } },
      })
        .png()
        .toBuffer();
      await expect(decodeImage(wide, SIZE, limits)).rejects.toThrow(ImageTooLargeError);
      await expect(decodeImage(wide, SIZE, { maxPixels: 50_000_000, maxSide: 13_000 })).resolves.toHaveLength(
        SIZE * SIZE * 3,
      );
      await expect(decodeImage(wide, SIZE, { maxPixels: 2_000_000, maxSide: 13_000 })).rejects.toThrow(
        'at most 2000000 pixels',
      );
    });

    it('passes a header that cannot be read on as a decode error', async () => {
      const png = await imageClaimingSize('png', 10, 10);
      png[20] ^= 0xff; // the IHDR checksum no longer matches
      await expect(checkImageHeader(png, limits)).rejects.toThrow(ImageDecodeError);
      await expect(checkImageHeader(png, limits)).rejects.not.toThrow(ImageTooLargeError);
    });
  });

  it('holds decodes past its concurrency until a running one finishes', async () => {
    const decoder = new ImageDecoder(undefined, 2);
    const image = await solidImage('png', [9, 9, 9]);
    const original = sharp.prototype.toBuffer;
    const held: (() => void)[] = [];
    const spy = jest.spyOn(sharp.prototype, 'toBuffer').mockImplementation(function (
      this: sharp.Sharp,
      ...args: unknown[]
    ) {
      return new Promise<void>((go) => held.push(go)).then(() => original.apply(this, args as never));
    } as never);
    try {
      const decodes = Array.from({ length: 3 }, () => decoder.decode(image, SIZE));
      await waitFor(() => held.length === 2);
      await new Promise((done) => setTimeout(done, 50));
      expect(held).toHaveLength(2);
      held[0]();
      await waitFor(() => held.length === 3);
      held[1]();
      held[2]();
      const pixels = await Promise.all(decodes);
      expect(pixels.map((p) => Math.round(meanChannel(p, 0)))).toEqual([9, 9, 9]);
    } finally {
      spy.mockRestore();
    }
  });

  it('decodes many files, skipping and listing the unreadable ones', async () => {
    const good = join(dir, 'good.png');
    const bad = join(dir, 'bad.jpg');
    await writeFile(good, await solidImage('png', [1, 2, 3]));
    await writeFile(bad, Buffer.from([0xff, 0xd8, 0xff, 0x00, 0x01]));
    const missing = join(dir, 'missing.jpg');

    const huge = join(dir, 'huge.png');
    await writeFile(huge, await imageClaimingSize('png', 100_000, 100_000));

    const result = await decodeImageFiles([bad, good, missing, huge, good], SIZE, 2);
    expect(result.pixels).toHaveLength(2);
    expect(result.indices).toEqual([1, 4]);
    expect(result.unreadable.map((u) => u.path)).toEqual([bad, missing, huge]);
    expect(result.unreadable[0].reason).toMatch(/could not be decoded/);
    expect(result.unreadable[1].reason).toMatch(/could not be read/);
    expect(result.unreadable[2].reason).toMatch(/100000×100000 pixels; at most 50000000 pixels/);
  });
});
