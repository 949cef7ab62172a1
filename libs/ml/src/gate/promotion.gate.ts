import { evaluateClassification, type ClassMetrics } from '@app/classification-metrics';
import { mcnemarTest, type McNemarResult } from '../evaluation/mcnemar.stats';
import { NO_PREDICTION, type ScoredSplit } from './split.scorer';

export interface PromotionGateOptions {
  /** The candidate may trail production's weighted F1 by this much and still be promoted. */
  tolerance: number;
  /** Weighted F1 the candidate must reach, with or without a production model. */
  floor: number;
  /** Largest fall in one class's F1 (production − candidate) that is still promoted. */
  maxClassDrop: number;
  /** Classes with fewer evaluation rows than this are reported but not held to `maxClassDrop`. */
  minClassSupport: number;
}

/**
 * Measured on the shared data's default split (1,054 rows): the full model trained on the training side with seeds 0
 * and 1 scores weighted F1 0.6950 and 0.6920 (image-only rows, which the image model alone answers at about 0.25,
 * pull it below the products' 0.78); the two disagree on 45 rows, McNemar p = 0.77; no class's F1 moves by more
 * than 0.077.
 * - tolerance 0.005: a retraining as good as production should replace it, so an equal or marginally lower score
 *   passes; a loss of 0.005 is about five rows on this split. Two equally good trainings differ by ± 0.006 (one
 *   standard deviation of b − c over 45 disagreements), so about one equal retraining in five is kept as a candidate:
 *   the safe way to be wrong, production stays.
 * - floor 0.5: today's model scores about 0.69 here; 0.5 only rejects a broken training (wrong data, a collapsed
 *   network), never a model that is merely a little worse, which the tolerance already judges.
 * - maxClassDrop 0.15: twice the largest seed-to-seed change; on the 11–111 rows a class has here, one row moves a
 *   small class's F1 by up to about 0.1, so a tighter bound would block retrainings over one row, while a collapsed
 *   class (F1 to 0) or a class swallowed by its neighbour falls by far more.
 * - minClassSupport 10: with fewer rows one or two rows decide the class's F1, which says nothing about the model;
 *   here every class has 11 or more evaluation rows, so all 27 are checked.
 */
export const DEFAULT_PROMOTION_GATE: PromotionGateOptions = {
  tolerance: 0.005,
  floor: 0.5,
  maxClassDrop: 0.15,
  minClassSupport: 10,
};

/** A model's figures on the evaluation split (evaluateClassification's, less the confusion matrix). */
export interface ModelSummary {
  n: number;
  accuracy: number;
  weighted_f1: number;
  macro_f1: number;
  /** Rows the model could not score (e.g. image-only rows for a model without an image component): wrong answers. */
  unscored: number;
  per_class: ClassMetrics[];
}

export interface ClassDrop {
  label: number;
  /** Evaluation rows of this class. */
  support: number;
  candidateF1: number;
  productionF1: number;
  /** productionF1 − candidateF1: positive when the candidate is worse on this class. */
  drop: number;
  /** Whether the class has enough rows to be held to the bound. */
  checked: boolean;
  exceeded: boolean;
}

/** The gate's verdict, JSON-serialisable as it is: stored on the version and shown over HTTP. */
export interface PromotionDecision {
  promote: boolean;
  /** One line per rule, saying its figures and whether it passed, then the decision. */
  reasons: string[];
  rules: PromotionGateOptions;
  /** The evaluation split both models were scored on, when the scores say. */
  splitHash: string | null;
  candidate: ModelSummary;
  /** null when there is no production model. */
  production: ModelSummary | null;
  /** Every class of the evaluation split, largest drop first; [] without a production model. */
  perClassDrops: ClassDrop[];
  /** McNemar's test of the two models' disagreements, for information (not a rule); null without production. */
  mcnemar: McNemarResult | null;
}

/** Float rounding in F1 differences must not turn "equal to the bound" into "beyond it". */
const SLACK = 1e-9;

/**
 * Whether a candidate model should replace production, from both models' predictions on the same frozen evaluation
 * split. Promoted when its weighted F1 reaches the floor, is at least production's minus the tolerance, and no
 * class with enough rows loses more than `maxClassDrop` of F1. Without a production model only the floor applies.
 */
export function decidePromotion(
  candidate: ScoredSplit,
  production: ScoredSplit | null,
  options: PromotionGateOptions = DEFAULT_PROMOTION_GATE,
): PromotionDecision {
  validateOptions(options);
  if (production) assertSameRows(candidate, production);
  const candidateSummary = summarise(candidate);
  const reasons: string[] = [];
  let promote = true;
  const rule = (passed: boolean, line: string) => {
    promote &&= passed;
    reasons.push(`${line}: ${passed ? 'pass' : 'fail'}`);
  };

  const wf1 = candidateSummary.weighted_f1;
  rule(
    wf1 + SLACK >= options.floor,
    `candidate weighted F1 ${f4(wf1)} on ${candidateSummary.n} rows ${wf1 + SLACK >= options.floor ? 'reaches' : 'is below'} the floor ${f4(options.floor)}`,
  );

  let productionSummary: ModelSummary | null = null;
  let perClassDrops: ClassDrop[] = [];
  let mcnemar: McNemarResult | null = null;
  if (!production) {
    reasons.push('no production model: the floor is the only rule');
  } else {
    productionSummary = summarise(production);
    const pwf1 = productionSummary.weighted_f1;
    rule(
      wf1 + SLACK >= pwf1 - options.tolerance,
      `candidate weighted F1 ${f4(wf1)} vs production ${f4(pwf1)} (difference ${signed(wf1 - pwf1)}, ` +
        `tolerance ${f4(options.tolerance)})`,
    );

    perClassDrops = classDrops(candidateSummary, productionSummary, options);
    const checked = perClassDrops.filter((d) => d.checked);
    const exceeded = checked.filter((d) => d.exceeded);
    for (const d of exceeded) {
      rule(
        false,
        `class ${d.label} F1 falls ${f4(d.drop)} (${f4(d.productionF1)} → ${f4(d.candidateF1)}, ${d.support} rows), ` +
          `more than ${f4(options.maxClassDrop)}`,
      );
    }
    if (exceeded.length === 0) {
      const worst = checked[0];
      rule(
        true,
        `no class with ${options.minClassSupport} or more rows falls by more than ${f4(options.maxClassDrop)} ` +
          `(${checked.length} classes checked` +
          (worst && worst.drop > 0 ? `; largest fall ${f4(worst.drop)}, class ${worst.label})` : ')'),
      );
    }
    const unchecked = perClassDrops.filter((d) => !d.checked);
    if (unchecked.length > 0) {
      reasons.push(
        `not held to the per-class bound, fewer than ${options.minClassSupport} rows: ` +
          unchecked.map((d) => `class ${d.label} (${d.support})`).join(', '),
      );
    }

    mcnemar = mcnemarTest(candidate.truth, candidate.predicted, production.predicted);
    reasons.push(
      `McNemar (${mcnemar.method}, for information): candidate alone right on ${mcnemar.b} rows, production ` +
        `alone on ${mcnemar.c}, p = ${mcnemar.pValue.toPrecision(3)}`,
    );
  }
  reasons.push(promote ? 'decision: promote' : 'decision: keep as a candidate');

  return {
    promote,
    reasons,
    rules: { ...options },
    splitHash: candidate.splitHash ?? production?.splitHash ?? null,
    candidate: candidateSummary,
    production: productionSummary,
    perClassDrops,
    mcnemar,
  };
}

function summarise(scores: ScoredSplit): ModelSummary {
  const report = evaluateClassification(scores.truth, scores.predicted, [...new Set(scores.truth)]);
  return {
    n: report.n,
    accuracy: report.accuracy,
    weighted_f1: report.weighted_f1,
    macro_f1: report.macro_f1,
    unscored: scores.predicted.filter((label) => label === NO_PREDICTION).length,
    per_class: report.per_class.filter((m) => m.label !== NO_PREDICTION),
  };
}

/** Per class of the evaluation split (support > 0), largest drop first, ties by label. */
function classDrops(
  candidate: ModelSummary,
  production: ModelSummary,
  options: PromotionGateOptions,
): ClassDrop[] {
  const productionF1 = new Map(production.per_class.map((m) => [m.label, m.f1]));
  return candidate.per_class
    .filter((m) => m.support > 0)
    .map((m) => {
      const before = productionF1.get(m.label) ?? 0;
      const drop = before - m.f1;
      const checked = m.support >= options.minClassSupport;
      return {
        label: m.label,
        support: m.support,
        candidateF1: m.f1,
        productionF1: before,
        drop,
        checked,
        exceeded: checked && drop > options.maxClassDrop + SLACK,
      };
    })
    .sort((a, b) => b.drop - a.drop || a.label - b.label);
}

function assertSameRows(candidate: ScoredSplit, production: ScoredSplit): void {
  if (candidate.splitHash && production.splitHash && candidate.splitHash !== production.splitHash) {
    throw new Error(
      `the candidate was scored on split ${candidate.splitHash} and production on ${production.splitHash}`,
    );
  }
  const same =
    candidate.truth.length === production.truth.length &&
    candidate.truth.every((label, i) => label === production.truth[i]);
  if (!same)
    throw new Error('the candidate and production were not scored on the same rows in the same order');
}

function validateOptions(options: PromotionGateOptions): void {
  const share = (name: keyof PromotionGateOptions) => {
    const value = options[name];
    if (!(value >= 0 && value <= 1))
      throw new RangeError(`promotion gate: ${name} must be between 0 and 1, got ${value}`);
  };
  share('tolerance');
  share('floor');
  share('maxClassDrop');
  if (!Number.isInteger(options.minClassSupport) || options.minClassSupport < 1) {
    throw new RangeError(
      `promotion gate: minClassSupport must be a whole number of at least 1, got ${options.minClassSupport}`,
    );
  }
}

const f4 = (value: number) => value.toFixed(4);
const signed = (value: number) => (value >= 0 ? '+' : '') + value.toFixed(4);
