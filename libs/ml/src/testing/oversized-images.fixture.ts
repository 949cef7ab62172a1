import sharp from 'sharp';

export type OversizedFormat = 'jpeg' | 'png' | 'webp';

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * A valid image of a few hundred bytes whose header claims width×height pixels (the pixel data is that of a
 * tiny image, so it would fail to decode, but only after the decoder allocated for the claimed size): what an
 * attacker sends to make a decoder allocate gigabytes. WebP can claim at most 16383 pixels a side.
 */
export async function imageClaimingSize(
  format: OversizedFormat,
  width: number,
  height: number,
): Promise<Buffer> {
  const tiny = sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 90, g: 20, b: 200 } } });
  if (format === 'png') {
    const png = Buffer.from(await tiny.png().toBuffer());
    // Signature (8), then the IHDR chunk: length (4), type (4), width (4), height (4), ..., CRC of type + data.
    png.writeUInt32BE(width, 16);
    png.writeUInt32BE(height, 20);
    png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
    return png;
  }
  if (format === 'jpeg') {
    const jpeg = Buffer.from(await tiny.jpeg().toBuffer());
    // Start of frame (baseline FFC0 or progressive FFC2): length (2), precision (1), height (2), width (2).
    for (let i = 2; i < jpeg.length - 9; i++) {
      if (jpeg[i] === 0xff && (jpeg[i + 1] === 0xc0 || jpeg[i + 1] === 0xc2)) {
        jpeg.writeUInt16BE(height, i + 5);
        jpeg.writeUInt16BE(width, i + 7);
        return jpeg;
      }
    }
    throw new Error('no start-of-frame marker in the JPEG');
  }
  if (width > 16383 || height > 16383) throw new RangeError('a WebP image is at most 16383 pixels a side');
  const webp = Buffer.from(await tiny.webp({ lossless: true }).toBuffer());
  if (webp.toString('latin1', 12, 16) !== 'VP8L') throw new Error('expected a lossless (VP8L) WebP');
  // After the VP8L signature byte: 14 bits width - 1, 14 bits height - 1, then alpha and version bits.
  const bits = webp.readUInt32LE(21);
  const rest = bits & ~0x0fffffff;
  webp.writeUInt32LE((rest | ((height - 1) << 14) | (width - 1)) >>> 0, 21);
  return webp;
}
