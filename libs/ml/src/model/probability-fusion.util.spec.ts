import { fuseProbabilities } from './probability-fusion.util';

const fuse = (text: number[] | undefined, image: number[] | undefined, weight: number) => {
  const out = new Float32Array((text ?? image)!.length);
  fuseProbabilities(text && Float32Array.from(text), image && Float32Array.from(image), weight, out);
  return Array.from(out);
};

describe('fuseProbabilities', () => {
  it('copies the only modality present', () => {
    expect(fuse([0.7, 0.3], undefined, 0.5)).toEqual([expect.closeTo(0.7), expect.closeTo(0.3)]);
    expect(fuse(undefined, [0.2, 0.8], 0.5)).toEqual([expect.closeTo(0.2), expect.closeTo(0.8)]);
  });

  it('returns a distribution that sums to one', () => {
    const fused = fuse([0.5, 0.3, 0.2], [0.1, 0.1, 0.8], 0.7);
    expect(fused.reduce((s, p) => s + p, 0)).toBeCloseTo(1, 5);
  });

  it('lets a confident image overrule an ambiguous text, more so with a larger weight', () => {
    const text = [0.55, 0.45];
    const image = [0.1, 0.9];
    expect(fuse(text, image, 0)[0]).toBeCloseTo(0.55);
    expect(fuse(text, image, 1)[1]).toBeGreaterThan(0.5);
    expect(fuse(text, image, 1)[1]).toBeGreaterThan(fuse(text, image, 0.3)[1]);
  });

  it('refuses to fuse nothing', () => {
    expect(() => fuseProbabilities(undefined, undefined, 1, new Float32Array(2))).toThrow();
  });
});
