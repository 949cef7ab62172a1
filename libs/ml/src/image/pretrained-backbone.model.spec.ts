import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { backboneSource } from './image.featurizer';
import { DEFAULT_BACKBONE, PretrainedBackbone, type BackboneSpec } from './pretrained-backbone.model';

/** A photo-like input: a gradient with a coloured square, so that features are not all zero. */
function picture(size: number, shift = 0): Uint8Array {
  const pixels = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const i = (y * size + x) * 3;
      const inSquare = x > size / 4 + shift && x < size / 2 + shift && y > size / 4 && y < size / 2;
      pixels[i] = inSquare ? 230 : (x * 255) / size;
      pixels[i + 1] = inSquare ? 40 : (y * 255) / size;
      pixels[i + 2] = 128;
    }
  return pixels;
}

const FINE_TUNED: BackboneSpec = {
  model: 'mobilenet_v2',
  layers: ['block_13_expand_relu'],
  pooling: 'mean',
  size: 224,
};

describe('PretrainedBackbone', () => {
  const network: jest.SpyInstance[] = [];

  beforeAll(() => {
    // Everything a load could use to reach another machine: none of it may be called.
    network.push(
      jest.spyOn(globalThis, 'fetch'),
      jest.spyOn(http, 'request'),
      jest.spyOn(http, 'get'),
      jest.spyOn(https, 'request'),
      jest.spyOn(https, 'get'),
      jest.spyOn(net, 'connect'),
      jest.spyOn(net, 'createConnection'),
      jest.spyOn(dns, 'lookup'),
    );
  });

  afterAll(() => network.forEach((spy) => spy.mockRestore()));

  it('loads the weights shipped in the nsfwjs package without touching the network', async () => {
    for (const spec of [DEFAULT_BACKBONE, FINE_TUNED]) {
      const backbone = await PretrainedBackbone.load(spec);
      backbone.extract(picture(spec.size));
      backbone.dispose();
    }
    for (const spy of network) expect(spy).not.toHaveBeenCalled();
  });

  it('pools the chosen layer into one vector per image: the same image gives the same features', async () => {
    const backbone = await PretrainedBackbone.load();
    // MobileNetV2 1.4: block 13 expands 136 channels six times.
    expect(backbone.featureLength).toBe(816);
    const a = backbone.extract(picture(224));
    expect(a).toHaveLength(816);
    expect(backbone.extract(picture(224))).toEqual(a);
    const moved = backbone.extract(picture(224, 40));
    expect(moved).not.toEqual(a);
    expect(Math.min(...a)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...a)).toBeGreaterThan(0);
    backbone.dispose();
  });

  it('concatenates several layers, and the mean and maximum when asked', async () => {
    const both = await PretrainedBackbone.load({
      ...DEFAULT_BACKBONE,
      layers: ['expanded_conv_12/add', 'expanded_conv_13/expand/Relu6'],
      pooling: 'mean+max',
    });
    expect(both.featureLength).toBe((136 + 816) * 2);
    both.dispose();
  });

  it('refuses pixels of another size', async () => {
    const backbone = await PretrainedBackbone.load();
    expect(() => backbone.extract(picture(64))).toThrow('expected 224×224×3 = 150528 values, got 12288');
    backbone.dispose();
  });

  it('names its features by model, weights, size, pooling and layers, so that caches never mix them', () => {
    const ids = [
      DEFAULT_BACKBONE,
      FINE_TUNED,
      { ...DEFAULT_BACKBONE, pooling: 'mean+max' as const },
      { ...DEFAULT_BACKBONE, layers: ['Conv_1/Relu6'] },
    ].map((spec) => {
      const source = backboneSource(spec);
      return source.kind === 'backbone' ? source.id : '';
    });
    expect(new Set(ids).size).toBe(4);
    expect(ids[0]).toMatch(/^mobilenet_v2_mid@[0-9a-f]{16}\/224\/mean\/expanded_conv_13\/expand\/Relu6$/);
  });
});
