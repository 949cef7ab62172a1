import type { ProductExample } from '../data/product.types';
import { designationKey } from '../evaluation/evaluation-split.util';
import type { TrainingData } from '../fitting/training.types';
import { holdOutForCalibration } from './calibration-split.util';

const row = (designation: string, label: number, extra: Partial<ProductExample> = {}): ProductExample => ({
  designation,
  description: '',
  label,
  origin: { file: 'synthetic', row: 2 },
  ...extra,
});

const NAMES: Record<number, string> = { 10: 'livre', 20: 'piscine', 30: 'table' };
/** A distinct word of letters for each n. */
const word = (n: number) => n.toString(26).replace(/\d/g, (d) => 'qrstuvwxyz'[Number(d)]);

function dataset(): TrainingData {
  const products: ProductExample[] = [];
  const imageOnly: ProductExample[] = [];
  for (const [label, size] of [
    [10, 400],
    [20, 100],
    [30, 40],
  ]) {
    // Titles come in pairs of near-duplicates ("... 1" and "... 2" share a key once digits are removed).
    for (let i = 0; i < size; i++) products.push(row(`${NAMES[label]} ${word(i >> 1)} ${i % 2}`, label));
    for (let i = 0; i < size / 4; i++) imageOnly.push(row('', label, { imagePath: `/p/${label}-${i}.jpg` }));
  }
  return {
    products,
    imageOnly,
    extraText: [row(`livre ${word(0)} 9`, 10), row('something new', 20)],
    categoryNames: {},
  };
}

describe('holdOutForCalibration', () => {
  it('holds out about the fraction of every class, disjoint from what trains', () => {
    const data = dataset();
    const split = holdOutForCalibration(data, 0.1, 7);
    const held = [...split.heldOut.products, ...split.heldOut.imageOnly];
    const trained = new Set([...split.train.products, ...split.train.imageOnly]);
    expect(held.some((r) => trained.has(r))).toBe(false);
    expect(held.length + trained.size).toBe(data.products.length + data.imageOnly.length);
    for (const [label, size] of [
      [10, 500],
      [20, 125],
      [30, 50],
    ]) {
      const count = held.filter((r) => r.label === label).length;
      expect(count).toBeGreaterThanOrEqual(Math.floor(0.1 * size) - 1);
      expect(count).toBeLessThanOrEqual(Math.ceil(0.1 * size));
    }
  });

  it('keeps near-duplicate titles on one side, and does not train on extra text that twins a held-out title', () => {
    const data = dataset();
    const split = holdOutForCalibration(data, 0.1, 7);
    const heldKeys = new Set(split.heldOut.products.map((r) => designationKey(r.designation)));
    expect(split.train.products.some((r) => heldKeys.has(designationKey(r.designation)))).toBe(false);
    expect(split.train.extraText.some((r) => heldKeys.has(designationKey(r.designation)))).toBe(false);
    expect(split.train.extraText.length + split.withheldTwins).toBe(data.extraText.length);
  });

  it('draws the same slice for the same seed and another for another seed', () => {
    const key = (seed: number) =>
      holdOutForCalibration(dataset(), 0.1, seed)
        .heldOut.products.map((r) => r.designation)
        .sort()
        .join('|');
    expect(key(1)).toBe(key(1));
    expect(key(1)).not.toBe(key(2));
  });

  it('leaves every class something to train on, and holds out nothing at fraction 0', () => {
    const data: TrainingData = {
      products: [row('only one', 5), row('only one', 5)],
      imageOnly: [],
      extraText: [],
      categoryNames: {},
    };
    expect(holdOutForCalibration(data, 0.9, 0).train.products).toHaveLength(2);
    const none = holdOutForCalibration(dataset(), 0, 0);
    expect(none.heldOut.products).toHaveLength(0);
    expect(none.heldOut.imageOnly).toHaveLength(0);
    expect(() => holdOutForCalibration(dataset(), 1, 0)).toThrow(RangeError);
  });
});
