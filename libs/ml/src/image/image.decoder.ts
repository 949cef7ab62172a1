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

async function readImageFile(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new ImageDecodeError(`image could not be read: ${(error as Error).message}`);
  }
}

/**
 * Decodes an image (bytes or file path) to size×size×3 RGB, row-major, scaled to cover the square and
 * centre-cropped: product photos are mostly square already, so little is lost and nothing is padded.
 */
export async function decodeImage(input: Buffer | string, size: number): Promise<Uint8Array> {
  const bytes = typeof input === 'string' ? await readImageFile(input) : input;
  if (sniffImageFormat(bytes) === undefined) {
    throw new ImageDecodeError('not a JPEG, PNG or WebP image');
  }
  try {
    const { data, info } = await sharp(bytes, { failOn: 'error' })
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

export interface DecodedImages {
  /** Pixels of the readable images, in input order, with the index of each in the input list. */
  pixels: Uint8Array[];
  indices: number[];
  /** Paths that could not be read or decoded (skipped, not thrown). */
  unreadable: { path: string; reason: string }[];
}

/** Decodes many files with bounded concurrency; unreadable files are reported, not thrown. */
export async function decodeImageFiles(
  paths: string[],
  size: number,
  concurrency = 4,
): Promise<DecodedImages> {
  // Errors are kept as messages: `instanceof Error` is unreliable across realms (fs errors under jest).
  const results: (Uint8Array | string)[] = new Array(paths.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < paths.length) {
      const i = next++;
      try {
        results[i] = await decodeImage(paths[i], size);
      } catch (error) {
        results[i] = (error as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));

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
