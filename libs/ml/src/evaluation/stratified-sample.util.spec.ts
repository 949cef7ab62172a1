import { stratifiedSample } from './stratified-sample.util';

describe('stratifiedSample', () => {
  const labels = [...Array<number>(900).fill(0), ...Array<number>(90).fill(1), ...Array<number>(10).fill(2)];

  it('keeps every row when there are no more than asked', () => {
    expect(stratifiedSample([3, 1, 2], 3, 0)).toEqual([0, 1, 2]);
  });

  it('draws about the size asked, each class in its share, rare classes kept', () => {
    const rows = stratifiedSample(labels, 100, 0);
    const count = (label: number) => rows.filter((i) => labels[i] === label).length;
    expect([count(0), count(1), count(2)]).toEqual([90, 9, 1]);
    expect(new Set(rows).size).toBe(rows.length);
    expect(rows).toEqual([...rows].sort((a, b) => a - b));
  });

  it('draws the same rows from the same seed and other rows from another', () => {
    expect(stratifiedSample(labels, 100, 7)).toEqual(stratifiedSample(labels, 100, 7));
    expect(stratifiedSample(labels, 100, 8)).not.toEqual(stratifiedSample(labels, 100, 7));
  });
});
