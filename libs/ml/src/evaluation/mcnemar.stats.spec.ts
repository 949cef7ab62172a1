import {
  chiSquareSurvival1,
  erfc,
  MCNEMAR_EXACT_BELOW,
  mcnemarFromCounts,
  mcnemarTest,
} from './mcnemar.stats';

describe('erfc', () => {
  it.each([
    [0, 1],
    [0.5, 0.4795001222],
    [1, 0.1572992071],
    [2, 0.004677735],
    [3, 0.0000220905],
    [-1, 1.8427007929],
  ])('erfc(%p) matches the tabulated %p to 1.2e-7 relative', (x, expected) => {
    expect(Math.abs(erfc(x) - expected) / expected).toBeLessThan(1.2e-7);
  });
});

describe('chiSquareSurvival1', () => {
  // Critical values of the chi-square distribution with 1 degree of freedom (standard statistical tables).
  it.each([
    [2.705543, 0.1],
    [3.841459, 0.05],
    [6.634897, 0.01],
    [10.827566, 0.001],
  ])('P(chi2_1 > %p) = %p', (x, p) => {
    expect(chiSquareSurvival1(x)).toBeCloseTo(p, 6);
  });

  it('is 1 at and below 0', () => {
    expect(chiSquareSurvival1(0)).toBe(1);
  });
});

describe('mcnemarFromCounts', () => {
  it('uses the exact two-sided binomial test below 25 disagreements', () => {
    // P(X <= 2 | n = 12, p = 1/2) = (1 + 12 + 66) / 4096, doubled.
    expect(mcnemarFromCounts(10, 2)).toEqual({
      b: 10,
      c: 2,
      statistic: 2,
      pValue: 158 / 4096,
      method: 'exact-binomial',
    });
    expect(mcnemarFromCounts(0, 5).pValue).toBe(2 / 32);
  });

  it('caps the exact p-value at 1 and gives 1 when the models never disagree', () => {
    expect(mcnemarFromCounts(3, 3).pValue).toBe(1);
    expect(mcnemarFromCounts(0, 0)).toMatchObject({ statistic: 0, pValue: 1, method: 'exact-binomial' });
  });

  it('uses the continuity-corrected chi-square from 25 disagreements on', () => {
    // (|30 - 15| - 1)^2 / 45 = 4.3556, p = 0.0369 (statsmodels' mcnemar(exact=False, correction=True)).
    const result = mcnemarFromCounts(30, 15);
    expect(result.method).toBe('chi-square-corrected');
    expect(result.statistic).toBeCloseTo(196 / 45, 10);
    expect(result.pValue).toBeCloseTo(0.03689, 5);
    expect(mcnemarFromCounts(MCNEMAR_EXACT_BELOW - 1, 0).method).toBe('exact-binomial');
    expect(mcnemarFromCounts(MCNEMAR_EXACT_BELOW, 0).method).toBe('chi-square-corrected');
  });

  it('is symmetric in b and c', () => {
    expect(mcnemarFromCounts(40, 12).pValue).toBe(mcnemarFromCounts(12, 40).pValue);
    expect(mcnemarFromCounts(7, 1).pValue).toBe(mcnemarFromCounts(1, 7).pValue);
  });
});

describe('mcnemarTest', () => {
  it('counts only the rows where exactly one model is right', () => {
    const truth = [1, 1, 1, 2, 2, 2, 3];
    const first = [1, 1, 2, 2, 3, 1, 3]; // right on 0, 1, 3, 6
    const second = [1, 2, 1, 1, 3, 3, 3]; // right on 0, 2, 6
    expect(mcnemarTest(truth, first, second)).toMatchObject({ b: 2, c: 1 });
  });

  it('refuses unpaired arrays', () => {
    expect(() => mcnemarTest([1, 2], [1], [1, 2])).toThrow('paired');
  });
});
