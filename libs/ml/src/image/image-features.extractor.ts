/**
 * Hand-made image features over a decoded square RGB image (size×size×3 bytes, row-major). With ~2,000 training
 * photos a network cannot learn good filters from scratch; these cheap global descriptors (colour distribution,
 * coarse layout, gradient orientations) fed to a small MLP score far better and train in seconds.
 */

const HUE_BINS = 8;
const SATURATION_BINS = 4;
const VALUE_BINS = 4;
const THUMB = 8;
const GRID = 4;
const ORIENTATIONS = 9;
/** Gradient magnitude (grey levels 0..1 per pixel step) above which a pixel counts as an edge. */
const EDGE_THRESHOLD = 0.1;

export const COLOR_HISTOGRAM_LENGTH = HUE_BINS * SATURATION_BINS * VALUE_BINS;
export const THUMBNAIL_LENGTH = THUMB * THUMB * 3;
export const GRADIENT_HISTOGRAM_LENGTH = GRID * GRID * ORIENTATIONS;
export const EDGE_DENSITY_LENGTH = GRID * GRID;

function checkSize(pixels: Uint8Array, size: number): void {
  if (size < THUMB || pixels.length !== size * size * 3) {
    throw new Error(
      `expected ${size}×${size}×3 = ${size * size * 3} values (size ≥ ${THUMB}), got ${pixels.length}`,
    );
  }
}

/**
 * Joint HSV histogram, 8 hue × 4 saturation × 4 value bins, as shares of the pixels, square-rooted: the root
 * damps the few dominant bins (usually the white background) so that small coloured areas still count.
 */
export function colorHistogram(pixels: Uint8Array, size: number): Float32Array {
  checkSize(pixels, size);
  const hist = new Float32Array(COLOR_HISTOGRAM_LENGTH);
  const share = 1 / (size * size);
  for (let i = 0; i < pixels.length; i += 3) {
    const r = pixels[i] / 255;
    const g = pixels[i + 1] / 255;
    const b = pixels[i + 2] / 255;
    const max = Math.max(r, g, b);
    const delta = max - Math.min(r, g, b);
    let hue = 0;
    if (delta > 0) {
      if (max === r) hue = ((g - b) / delta + 6) % 6;
      else if (max === g) hue = (b - r) / delta + 2;
      else hue = (r - g) / delta + 4;
    }
    const saturation = max === 0 ? 0 : delta / max;
    const h = Math.min(HUE_BINS - 1, Math.floor((hue / 6) * HUE_BINS));
    const s = Math.min(SATURATION_BINS - 1, Math.floor(saturation * SATURATION_BINS));
    const v = Math.min(VALUE_BINS - 1, Math.floor(max * VALUE_BINS));
    hist[(h * SATURATION_BINS + s) * VALUE_BINS + v] += share;
  }
  for (let i = 0; i < hist.length; i++) hist[i] = Math.sqrt(hist[i]);
  return hist;
}

/** 8×8 RGB thumbnail (mean of each block), scaled to [-1, 1]: the coarse layout of the photo. */
export function thumbnail(pixels: Uint8Array, size: number): Float32Array {
  checkSize(pixels, size);
  const sums = new Float32Array(THUMBNAIL_LENGTH);
  const counts = new Float32Array(THUMB * THUMB);
  for (let y = 0; y < size; y++) {
    const ty = Math.floor((y * THUMB) / size);
    for (let x = 0; x < size; x++) {
      const cell = ty * THUMB + Math.floor((x * THUMB) / size);
      const src = (y * size + x) * 3;
      counts[cell]++;
      sums[cell * 3] += pixels[src];
      sums[cell * 3 + 1] += pixels[src + 1];
      sums[cell * 3 + 2] += pixels[src + 2];
    }
  }
  for (let i = 0; i < sums.length; i++) sums[i] = sums[i] / counts[Math.floor(i / 3)] / 127.5 - 1;
  return sums;
}

function grayscale(pixels: Uint8Array, size: number): Float32Array {
  const gray = new Float32Array(size * size);
  for (let i = 0; i < gray.length; i++) {
    gray[i] = (0.299 * pixels[i * 3] + 0.587 * pixels[i * 3 + 1] + 0.114 * pixels[i * 3 + 2]) / 255;
  }
  return gray;
}

/**
 * HOG-like shape/texture descriptor: on the grey image, central-difference gradients vote with their magnitude
 * into 9 unsigned orientation bins (0–180°) of a 4×4 grid of cells; each cell is L2-normalised so that contrast
 * does not matter, only the mix of edge directions. Also returns, per cell, the share of edge pixels.
 */
export function gradientFeatures(
  pixels: Uint8Array,
  size: number,
): { orientations: Float32Array; edgeDensity: Float32Array } {
  checkSize(pixels, size);
  const gray = grayscale(pixels, size);
  const orientations = new Float32Array(GRADIENT_HISTOGRAM_LENGTH);
  const edgeDensity = new Float32Array(EDGE_DENSITY_LENGTH);
  const counts = new Float32Array(EDGE_DENSITY_LENGTH);
  for (let y = 0; y < size; y++) {
    const up = (y === 0 ? y : y - 1) * size;
    const down = (y === size - 1 ? y : y + 1) * size;
    const cy = Math.floor((y * GRID) / size);
    for (let x = 0; x < size; x++) {
      const left = x === 0 ? x : x - 1;
      const right = x === size - 1 ? x : x + 1;
      const gx = gray[y * size + right] - gray[y * size + left];
      const gy = gray[down + x] - gray[up + x];
      const magnitude = Math.sqrt(gx * gx + gy * gy);
      const cell = cy * GRID + Math.floor((x * GRID) / size);
      counts[cell]++;
      if (magnitude > EDGE_THRESHOLD) edgeDensity[cell]++;
      if (magnitude === 0) continue;
      // Unsigned orientation in [0, π): a dark-to-light edge and a light-to-dark one count the same.
      const angle = (Math.atan2(gy, gx) + Math.PI) % Math.PI;
      const bin = Math.min(ORIENTATIONS - 1, Math.floor((angle / Math.PI) * ORIENTATIONS));
      orientations[cell * ORIENTATIONS + bin] += magnitude;
    }
  }
  for (let cell = 0; cell < EDGE_DENSITY_LENGTH; cell++) {
    edgeDensity[cell] /= counts[cell];
    let norm = 0;
    for (let b = 0; b < ORIENTATIONS; b++) norm += orientations[cell * ORIENTATIONS + b] ** 2;
    norm = Math.sqrt(norm) + 1e-6;
    for (let b = 0; b < ORIENTATIONS; b++) orientations[cell * ORIENTATIONS + b] /= norm;
  }
  return { orientations, edgeDensity };
}

export const IMAGE_FEATURE_LENGTH =
  COLOR_HISTOGRAM_LENGTH + THUMBNAIL_LENGTH + GRADIENT_HISTOGRAM_LENGTH + EDGE_DENSITY_LENGTH;

/** All features of one image, concatenated: the model input before standardisation. */
export function extractImageFeatures(pixels: Uint8Array, size: number): Float32Array {
  const { orientations, edgeDensity } = gradientFeatures(pixels, size);
  const out = new Float32Array(IMAGE_FEATURE_LENGTH);
  let offset = 0;
  for (const part of [colorHistogram(pixels, size), thumbnail(pixels, size), orientations, edgeDensity]) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
