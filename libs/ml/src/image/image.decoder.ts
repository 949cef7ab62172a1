import { readFile } from 'node:fs/promises';
import sharp from 'sharp';

export type ImageFormat = 'jpeg' | 'png' | 'webp';

/** Raised for bytes that are not an image we accept, or that libvips cannot decode. */
export class ImageDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImageDecodeError';
  }
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function startsWith(bytes: Uint8Array, prefix: number[], offset = 0): boolean {
  if (bytes.length < offset + prefix.length) return false;
  return prefix.every((b, i) => bytes[offset + i] === b);
}

/**
 * Identifies the format from magic bytes, so that only the formats product photos come in reach libvips
 * (which would otherwise also open SVG, TIFF, PDF and more).
 */
export function sniffImageFormat(bytes: Uint8Array): ImageFormat | undefined {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(bytes, PNG_SIGNATURE)) return 'png';
  // RIFF....WEBP
  if (startsWith(bytes, [0x52, 0x49, 0x46, 0x46]) && startsWith(bytes, [0x57, 0x45, 0x42, 0x50], 8))
    return 'webp';
  return undefined;
}

/** Beyond these dimensions an image is refused from its header, before any pixel is decoded. */
export interface ImageLimits {
  maxPixels: number;
  maxSide: number;
}

/** What the largest camera photos need (a 50 MP sensor, panoramas up to 12,000 px wide). */
export const DEFAULT_IMAGE_LIMITS: Readonly<ImageLimits> = { maxPixels: 50_000_000, maxSide: 12_000 };

/** The image's header claims dimensions past the limits: refused without decoding it. */
export class ImageTooLargeError extends ImageDecodeError {
  constructor(
    readonly width: number,
    readonly height: number,
    readonly limits: Readonly<ImageLimits>,
  ) {
    super(
      `the image is ${width}×${height} pixels; at most ${limits.maxPixels} pixels and ${limits.maxSide} ` +
        `pixels a side are accepted`,
    );
    this.name = 'ImageTooLargeError';
  }

  get pixelsExceeded(): boolean {
    return this.width * this.height > this.limits.maxPixels;
  }

  get sideExceeded(): boolean {
    return Math.max(this.width, this.height) > this.limits.maxSide;
  }
}

// Every image is decoded once: libvips' operation cache would only keep the memory of large decodes alive after
// their request (measured: 1.6 GiB still resident after two 256 MP progressive JPEGs, 0.1 GiB without the cache).
sharp.cache(false);

async function readImageFile(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new ImageDecodeError(`image could not be read: ${(error as Error).message}`);
  }
}

/**
 * Checks an image's format and dimensions from its header alone (libvips reads no pixel for this), so that a
 * file small on disk that claims gigapixels costs nothing. Throws ImageDecodeError or ImageTooLargeError.
 */
export async function checkImageHeader(
  bytes: Buffer,
  limits: Readonly<ImageLimits> = DEFAULT_IMAGE_LIMITS,
): Promise<void> {
  if (sniffImageFormat(bytes) === undefined) {
    throw new ImageDecodeError('not a JPEG, PNG or WebP image');
  }
  let width: number | undefined;
  let height: number | undefined;
  try {
    ({ width, height } = await sharp(bytes, { limitInputPixels: false }).metadata());
  } catch (error) {
    throw new ImageDecodeError(`image could not be decoded: ${(error as Error).message}`);
  }
  if (!width || !height) throw new ImageDecodeError('image could not be decoded: its header has no size');
  if (width * height > limits.maxPixels || Math.max(width, height) > limits.maxSide) {
    throw new ImageTooLargeError(width, height, limits);
  }
}

/**
 * Decodes an image (bytes or file path) to size×size×3 RGB, row-major, scaled to cover the square and
 * centre-cropped: product photos are mostly square already, so little is lost and nothing is padded. Images
 * past `limits` are refused from their header (ImageTooLargeError), and libvips is held to the same pixel count.
 */
export async function decodeImage(
  input: Buffer | string,
  size: number,
  limits: Readonly<ImageLimits> = DEFAULT_IMAGE_LIMITS,
): Promise<Uint8Array> {
  const bytes = typeof input === 'string' ? await readImageFile(input) : input;
  await checkImageHeader(bytes, limits);
  try {
    const { data, info } = await sharp(bytes, { failOn: 'error', limitInputPixels: limits.maxPixels })
      .resize(size, size, { fit: 'cover' })
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3 || data.length !== size * size * 3) {
      throw new Error(`unexpected ${info.width}×${info.height}×${info.channels} output`);
    }
    return new Uint8Array(data.buffer, data.byteOffset, data.length);
  } catch (error) {
    throw new ImageDecodeError(`image could not be decoded: ${(error as Error).message}`);
  }
}

/**
 * Decodes images within limits, at most `concurrency` at a time: the others wait their turn, so that a burst of
 * large images costs the memory of `concurrency` decodes, not of the burst.
 */
export class ImageDecoder {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    readonly limits: Readonly<ImageLimits> = DEFAULT_IMAGE_LIMITS,
    readonly concurrency = 4,
  ) {
    if (!(concurrency >= 1)) throw new RangeError(`concurrency must be at least 1, not ${concurrency}`);
  }

  /** Header check only (no slot needed): see checkImageHeader. */
  check(bytes: Buffer): Promise<void> {
    return checkImageHeader(bytes, this.limits);
  }

  async decode(input: Buffer | string, size: number): Promise<Uint8Array> {
    if (this.running >= this.concurrency) await new Promise<void>((turn) => this.waiting.push(turn));
    else this.running++;
    try {
      return await decodeImage(input, size, this.limits);
    } finally {
      // The slot passes straight to the next in line, so `running` counts it throughout.
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}

export interface DecodedImages {
  /** Pixels of the readable images, in input order, with the index of each in the input list. */
  pixels: Uint8Array[];
  indices: number[];
  /** Paths that could not be read or decoded, or are past the limits (skipped, not thrown). */
  unreadable: { path: string; reason: string }[];
}

/** Decodes many files with bounded concurrency; unreadable files are reported, not thrown. */
export async function decodeImageFiles(
  paths: string[],
  size: number,
  concurrency = 4,
  limits: Readonly<ImageLimits> = DEFAULT_IMAGE_LIMITS,
): Promise<DecodedImages> {
  const decoder = new ImageDecoder(limits, Math.max(1, concurrency));
  // Errors are kept as messages: `instanceof Error` is unreliable across realms (fs errors under jest).
  const results = await Promise.all(
    paths.map((path) => decoder.decode(path, size).catch((error: unknown) => (error as Error).message)),
  );
  const decoded: DecodedImages = { pixels: [], indices: [], unreadable: [] };
  results.forEach((result, i) => {
    if (typeof result === 'string') decoded.unreadable.push({ path: paths[i], reason: result });
    else {
      decoded.pixels.push(result);
      decoded.indices.push(i);
    }
  });
  return decoded;
}
