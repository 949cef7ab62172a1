import { evaluateClassification } from '@app/classification-metrics';
import { DEFAULT_PROMOTION_GATE, decidePromotion } from './promotion.gate';
import { NO_PREDICTION, type ScoredSplit } from './split.scorer';

// Ten classes of 60 evaluation rows and one of 6 (below the default minimum support of 10).
const CLASSES = [10, 40, 50, 60, 1140, 1160, 1180, 1280, 1281, 1300];
const SMALL = 2905;
const truth = [...CLASSES.flatMap((label) => Array<number>(60).fill(label)), ...Array<number>(6).fill(SMALL)];
const SPLIT = 'a'.repeat(64);

/** Answers that are right except where `wrong(i)`, where they name the next class (a plausible confusion). */
function answers(wrong: (i: number, label: number) => boolean, labels = truth): ScoredSplit {
  const all = [...CLASSES, SMALL];
  return {
    truth: labels,
    predicted: labels.map((label, i) =>
      wrong(i, label) ? all[(all.indexOf(label) + 1) % all.length] : label,
    ),
    splitHash: SPLIT,
  };
}

const weightedF1 = (scores: ScoredSplit) =>
  evaluateClassification(scores.truth, scores.predicted, []).weighted_f1;

// Production is wrong on one row in five.
const production = answers((i) => i % 5 === 0);

describe('decidePromotion', () => {
  it('promotes a better candidate, with every rule passed and McNemar favouring it', () => {
    const candidate = answers((i) => i % 10 === 0);
    const decision = decidePromotion(candidate, production);
    expect(decision.promote).toBe(true);
    expect(decision.candidate.weighted_f1).toBeGreaterThan(decision.production!.weighted_f1);
    expect(decision.reasons.filter((r) => r.endsWith(': fail'))).toEqual([]);
    expect(decision.reasons.at(-1)).toBe('decision: promote');
    // Production is wrong on the 122 rows i % 5 === 0, the candidate on the 61 of them with i % 10 === 0.
    expect(decision.mcnemar).toMatchObject({ b: 61, c: 0, method: 'chi-square-corrected' });
    expect(decision.mcnemar!.pValue).toBeLessThan(1e-10);
    expect(decision.splitHash).toBe(SPLIT);
  });

  it('promotes an equal candidate: a retraining as good as production replaces it', () => {
    const decision = decidePromotion(
      answers((i) => i % 5 === 0),
      production,
    );
    expect(decision.promote).toBe(true);
    expect(decision.candidate.weighted_f1).toBe(decision.production!.weighted_f1);
    expect(decision.perClassDrops.every((d) => d.drop === 0)).toBe(true);
    expect(decision.mcnemar).toEqual({ b: 0, c: 0, statistic: 0, pValue: 1, method: 'exact-binomial' });
  });

  it('keeps a worse candidate as a candidate, saying by how much', () => {
    const candidate = answers((i) => i % 5 === 0 || i % 7 === 0);
    const decision = decidePromotion(candidate, production);
    expect(weightedF1(candidate)).toBeLessThan(weightedF1(production) - DEFAULT_PROMOTION_GATE.tolerance);
    expect(decision.promote).toBe(false);
    expect(
      decision.reasons.find((r) => r.startsWith('candidate weighted F1') && r.includes('vs production')),
    ).toMatch(/difference -0\.\d{4}, tolerance 0\.0050\): fail$/);
    expect(decision.reasons.at(-1)).toBe('decision: keep as a candidate');
    expect(decision.mcnemar!.c).toBeGreaterThan(decision.mcnemar!.b);
  });

  it('applies the tolerance: a small loss passes, the same loss with a tighter tolerance does not', () => {
    // Two more wrong rows than production: weighted F1 about 0.003 lower.
    const candidate = answers((i) => i % 5 === 0 || i === 1 || i === 62);
    const loss = weightedF1(production) - weightedF1(candidate);
    expect(loss).toBeGreaterThan(0.001);
    expect(loss).toBeLessThan(DEFAULT_PROMOTION_GATE.tolerance);
    expect(decidePromotion(candidate, production).promote).toBe(true);
    expect(
      decidePromotion(candidate, production, { ...DEFAULT_PROMOTION_GATE, tolerance: 0.001 }).promote,
    ).toBe(false);
  });

  it('keeps a candidate that is better overall but lets one class collapse', () => {
    // Right everywhere except class 1180, which it always calls 1280.
    const candidate = answers((_, label) => label === 1180);
    const decision = decidePromotion(candidate, production);
    expect(weightedF1(candidate)).toBeGreaterThan(weightedF1(production));
    expect(decision.promote).toBe(false);
    expect(decision.perClassDrops[0]).toMatchObject({
      label: 1180,
      support: 60,
      candidateF1: 0,
      checked: true,
    });
    expect(decision.perClassDrops[0].exceeded).toBe(true);
    expect(decision.perClassDrops.filter((d) => d.exceeded).map((d) => d.label)).toEqual([1180]);
    expect(decision.reasons).toContainEqual(
      expect.stringMatching(/^class 1180 F1 falls 0\.8\d{3} .*60 rows.*: fail$/),
    );
  });

  it('does not hold a class with too few rows to the per-class bound, and says so', () => {
    const candidate = answers((i, label) => label === SMALL || i % 10 === 0);
    const decision = decidePromotion(candidate, production);
    const small = decision.perClassDrops.find((d) => d.label === SMALL)!;
    expect(small).toMatchObject({ support: 6, candidateF1: 0, checked: false, exceeded: false });
    expect(small.drop).toBeGreaterThan(DEFAULT_PROMOTION_GATE.maxClassDrop);
    expect(decision.promote).toBe(true);
    expect(decision.reasons).toContain('not held to the per-class bound, fewer than 10 rows: class 2905 (6)');
    const strict = decidePromotion(candidate, production, { ...DEFAULT_PROMOTION_GATE, minClassSupport: 5 });
    expect(strict.promote).toBe(false);
  });

  it('without a production model, promotes a candidate above the floor and keeps one below it', () => {
    const good = decidePromotion(
      answers((i) => i % 5 === 0),
      null,
    );
    expect(good.promote).toBe(true);
    expect(good).toMatchObject({ production: null, perClassDrops: [], mcnemar: null });
    expect(good.reasons).toContain('no production model: the floor is the only rule');

    const poor = answers((i) => i % 5 !== 0);
    expect(weightedF1(poor)).toBeLessThan(DEFAULT_PROMOTION_GATE.floor);
    const decision = decidePromotion(poor, null);
    expect(decision.promote).toBe(false);
    expect(decision.reasons[0]).toMatch(/is below the floor 0\.5000: fail$/);
  });

  it('keeps a candidate under the floor even when production is worse still', () => {
    const poorProduction = answers((i) => i % 10 !== 0);
    const poorCandidate = answers((i) => i % 5 !== 0);
    expect(weightedF1(poorCandidate)).toBeGreaterThan(weightedF1(poorProduction));
    expect(decidePromotion(poorCandidate, poorProduction).promote).toBe(false);
  });

  it('counts rows the candidate could not score as wrong, outside every class', () => {
    const candidate = answers((i) => i % 5 === 0);
    const blind = {
      ...candidate,
      predicted: candidate.predicted.map((p, i) => (i < 60 ? NO_PREDICTION : p)),
    };
    const decision = decidePromotion(blind, production);
    expect(decision.candidate.unscored).toBe(60);
    expect(decision.candidate.per_class.map((m) => m.label)).not.toContain(NO_PREDICTION);
    expect(decision.perClassDrops.find((d) => d.label === 10)).toMatchObject({
      candidateF1: 0,
      exceeded: true,
    });
    expect(decision.promote).toBe(false);
  });

  it('is JSON-serialisable as it is', () => {
    const decision = decidePromotion(
      answers((i) => i % 7 === 0),
      production,
    );
    expect(JSON.parse(JSON.stringify(decision))).toEqual(decision);
    expect(decision.rules).toEqual(DEFAULT_PROMOTION_GATE);
  });

  it('refuses scores that are not on the same rows', () => {
    const shorter = { ...production, truth: truth.slice(1), predicted: production.predicted.slice(1) };
    expect(() => decidePromotion(shorter, production)).toThrow('same rows');
    expect(() => decidePromotion({ ...production, splitHash: 'b'.repeat(64) }, production)).toThrow('split');
  });

  it('refuses options out of range, naming them', () => {
    expect(() => decidePromotion(production, null, { ...DEFAULT_PROMOTION_GATE, floor: 1.2 })).toThrow(
      'floor',
    );
    expect(() => decidePromotion(production, null, { ...DEFAULT_PROMOTION_GATE, tolerance: -0.1 })).toThrow(
      'tolerance',
    );
    expect(() =>
      decidePromotion(production, null, { ...DEFAULT_PROMOTION_GATE, minClassSupport: 0.5 }),
    ).toThrow('minClassSupport');
  });
});
