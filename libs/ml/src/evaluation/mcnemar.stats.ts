export interface McNemarResult {
  /** Rows the first model (the candidate) got right and the second (production) got wrong. */
  b: number;
  /** Rows the second model got right and the first got wrong. */
  c: number;
  /** min(b, c) for the exact test; the continuity-corrected chi-square (1 degree of freedom) otherwise. */
  statistic: number;
  /** Two-sided p-value of "both models are wrong equally often on the rows where they disagree". */
  pValue: number;
  method: 'exact-binomial' | 'chi-square-corrected';
}

/**
 * Below this many disagreements the chi-square approximation is poor and the exact binomial test is cheap
 * (the usual rule of thumb, b + c < 25).
 */
export const MCNEMAR_EXACT_BELOW = 25;

/**
 * McNemar's test on two classifiers' paired answers over the same rows: only the rows where exactly one of them
 * is right carry information. Exact two-sided binomial test (p = 1/2) for few disagreements, else the chi-square
 * with Edwards' continuity correction, (|b − c| − 1)² / (b + c).
 */
export function mcnemarTest(truth: number[], first: number[], second: number[]): McNemarResult {
  if (first.length !== truth.length || second.length !== truth.length) {
    throw new Error(
      `McNemar needs paired answers: ${truth.length} true labels, ${first.length} and ${second.length} predictions`,
    );
  }
  let b = 0;
  let c = 0;
  for (let i = 0; i < truth.length; i++) {
    const firstRight = first[i] === truth[i];
    const secondRight = second[i] === truth[i];
    if (firstRight && !secondRight) b++;
    else if (secondRight && !firstRight) c++;
  }
  return mcnemarFromCounts(b, c);
}

export function mcnemarFromCounts(b: number, c: number): McNemarResult {
  const n = b + c;
  if (n < MCNEMAR_EXACT_BELOW) {
    const k = Math.min(b, c);
    return { b, c, statistic: k, pValue: Math.min(1, 2 * binomialCdfHalf(k, n)), method: 'exact-binomial' };
  }
  const statistic = (Math.abs(b - c) - 1) ** 2 / n;
  return { b, c, statistic, pValue: chiSquareSurvival1(statistic), method: 'chi-square-corrected' };
}

/** P(X ≤ k) for X ~ Binomial(n, 1/2), summing exact terms (n stays small here). */
function binomialCdfHalf(k: number, n: number): number {
  let term = 1;
  let sum = 1;
  for (let i = 1; i <= k; i++) {
    term = (term * (n - i + 1)) / i;
    sum += term;
  }
  return sum / 2 ** n;
}

/** P(χ²₁ > x): a chi-square with one degree of freedom is the square of a standard normal. */
export function chiSquareSurvival1(x: number): number {
  return x <= 0 ? 1 : erfc(Math.sqrt(x / 2));
}

/**
 * Complementary error function, by the Chebyshev fit of Numerical Recipes (erfcc): relative error below 1.2e-7
 * everywhere, ample for a p-value.
 */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  let poly = 0;
  for (let i = ERFC_COEFFICIENTS.length - 1; i >= 0; i--) poly = ERFC_COEFFICIENTS[i] + t * poly;
  const r = t * Math.exp(-z * z + poly);
  return x >= 0 ? r : 2 - r;
}

const ERFC_COEFFICIENTS = [
  -1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398, 1.48851587,
  -0.82215223, 0.17087277,
];
