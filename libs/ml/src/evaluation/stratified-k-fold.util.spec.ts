import { stratifiedKFold } from './stratified-k-fold.util';

describe('stratifiedKFold', () => {
  const labels = [...Array(23).fill(1), ...Array(10).fill(2), ...Array(4).fill(3), 4];

  it('puts every index in exactly one test fold and the rest in train', () => {
    const folds = stratifiedKFold(labels, 5, 0);
    expect(folds).toHaveLength(5);
    const tested = folds.flatMap((f) => f.test).sort((a, b) => a - b);
    expect(tested).toEqual(labels.map((_, i) => i));
    for (const { train, test } of folds) {
      expect(train.length + test.length).toBe(labels.length);
      expect(train.filter((i) => test.includes(i))).toEqual([]);
    }
  });

  it('spreads each class evenly and keeps fold sizes balanced', () => {
    const folds = stratifiedKFold(labels, 5, 0);
    for (const label of [1, 2, 3]) {
      const counts = folds.map((f) => f.test.filter((i) => labels[i] === label).length);
      expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    }
    const sizes = folds.map((f) => f.test.length);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
  });

  it('is reproducible for a seed and changes with it', () => {
    expect(stratifiedKFold(labels, 5, 7)).toEqual(stratifiedKFold(labels, 5, 7));
    expect(stratifiedKFold(labels, 5, 7)).not.toEqual(stratifiedKFold(labels, 5, 8));
  });

  it('rejects impossible splits', () => {
    expect(() => stratifiedKFold([1, 2], 3, 0)).toThrow();
    expect(() => stratifiedKFold(labels, 1, 0)).toThrow();
  });
});
