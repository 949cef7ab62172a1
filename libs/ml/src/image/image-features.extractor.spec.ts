import {
  colorHistogram,
  COLOR_HISTOGRAM_LENGTH,
  extractImageFeatures,
  gradientFeatures,
  IMAGE_FEATURE_LENGTH,
  thumbnail,
} from './image-features.extractor';

const SIZE = 16;

function image(colour: (x: number, y: number) => [number, number, number], size = SIZE): Uint8Array {
  const pixels = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) pixels.set(colour(x, y), (y * size + x) * 3);
  }
  return pixels;
}

const sum = (a: Float32Array): number => a.reduce((s, v) => s + v, 0);

describe('image features', () => {
  it('puts a plain colour in one histogram bin, square-rooted shares summing (squared) to 1', () => {
    const red = colorHistogram(
      image(() => [255, 0, 0]),
      SIZE,
    );
    expect(red).toHaveLength(COLOR_HISTOGRAM_LENGTH);
    // Hue 0, full saturation, full value: bin (0 * 4 + 3) * 4 + 3.
    expect(red[15]).toBeCloseTo(1);
    expect(sum(red)).toBeCloseTo(1);

    const halves = colorHistogram(
      image((x) => (x < SIZE / 2 ? [255, 0, 0] : [0, 0, 255])),
      SIZE,
    );
    expect(Array.from(halves).filter((v) => v > 0)).toEqual(
      [Math.sqrt(0.5), Math.sqrt(0.5)].map(Math.fround),
    );
    expect(sum(halves.map((v) => v * v))).toBeCloseTo(1);
  });

  it('averages 8×8 blocks into a thumbnail scaled to [-1, 1]', () => {
    const thumb = thumbnail(
      image((x) => (x < SIZE / 2 ? [0, 0, 0] : [255, 255, 255])),
      SIZE,
    );
    expect(thumb).toHaveLength(8 * 8 * 3);
    expect(thumb[0]).toBe(-1); // top-left block is black
    expect(thumb[7 * 3]).toBe(1); // top-right block is white
  });

  it('finds vertical edges as horizontal gradients and measures edge density per cell', () => {
    const stripes = gradientFeatures(
      image((x) => (x % 4 < 2 ? [0, 0, 0] : [255, 255, 255])),
      SIZE,
    );
    // Each 4×4 cell has a unit-norm 9-bin histogram, all in bin 0 (gradient along x).
    for (let cell = 0; cell < 16; cell++) {
      expect(stripes.orientations[cell * 9]).toBeCloseTo(1);
      expect(sum(stripes.orientations.subarray(cell * 9 + 1, cell * 9 + 9))).toBe(0);
    }
    // Gradients are clamped at the border, so only the outer columns of the outer cells are not edges.
    expect(stripes.edgeDensity[5]).toBe(1);
    expect(stripes.edgeDensity[0]).toBe(0.75);

    const flat = gradientFeatures(
      image(() => [90, 120, 30]),
      SIZE,
    );
    expect(sum(flat.orientations)).toBe(0);
    expect(sum(flat.edgeDensity)).toBe(0);
  });

  it('concatenates all features, for any size of at least 8', () => {
    for (const size of [8, 16, 24]) {
      const features = extractImageFeatures(
        image((x, y) => [x * 10, y * 10, 128], size),
        size,
      );
      expect(features).toHaveLength(IMAGE_FEATURE_LENGTH);
      expect(features.every(Number.isFinite)).toBe(true);
    }
  });

  it('rejects pixel arrays that do not match the size', () => {
    expect(() => extractImageFeatures(new Uint8Array(10), SIZE)).toThrow(/expected 16×16×3/);
    expect(() => extractImageFeatures(new Uint8Array(4 * 4 * 3), 4)).toThrow(/size ≥ 8/);
  });
});
