import {
  designationKey,
  evaluateClassification,
  type EvaluationRows,
  type ProductExample,
  type PromotionDecision,
  type ScoredSplit,
} from '@app/ml';

/** One labelled prediction, as a retraining job exports it for the training step. */
export interface FeedbackRow {
  predictionId: string;
  /** ISO time of the label. */
  labelledAt: string;
  /** The true product type code. */
  prdtypecode: number;
  designation: string;
  description: string | null;
  /** The photo sent with the prediction, fetched from the store; absent when none was sent or it has expired. */
  imagePath?: string;
}

/** The export of the labelled predictions, oldest label first. */
export interface FeedbackFile {
  rows: FeedbackRow[];
  /** Labels whose prediction row was not found: not in `rows`. */
  missingPredictions: number;
}

/** What a candidate learned from the labelled predictions: recorded in its lineage and model card. */
export interface FeedbackTrainingSummary {
  /** Labels trained on. */
  labels: number;
  /** The most recent labels, held out of training and scored for information (RecentFeedbackScores). */
  heldOut: number;
  /** Of `labels`, those with their photo (which the image model, when trained, learns from). */
  withImages: number;
  /** Labels whose prediction row was not found. */
  missingPredictions: number;
  /**
   * Labels left out of training because their title twins an evaluation row (as extra_text_only rows are): a
   * candidate trained on them would be scored on what it learned, and the frozen split would judge nothing.
   */
  withheldTwins: number;
  /** Labels with neither text nor a photo left (an image-only prediction whose photo expired): nothing to learn. */
  empty: number;
  /** The newest label trained on: later labels are new to this version. null when it trained on none. */
  watermark: { labelledAt: string; predictionId: string } | null;
}

export interface RecentFeedbackFigures {
  weighted_f1: number;
  macro_f1: number;
  accuracy: number;
}

/** Both models on the most recent labels, which the candidate did not train on. */
export interface RecentFeedbackScores {
  n: number;
  candidate: RecentFeedbackFigures;
  /** null when there is no production model. */
  production: RecentFeedbackFigures | null;
}

/** The labelled predictions, split into what trains and the recent labels held out of training. */
export interface FeedbackPartition {
  train: { products: ProductExample[]; imageOnly: ProductExample[] };
  recent: EvaluationRows;
  summary: FeedbackTrainingSummary;
}

/**
 * The most recent labels (min(recentMax, a fifth of them)) are held out; the others train, except those whose title
 * twins an evaluation row. A label whose prediction had no text trains the image model alone (image-only rows); one
 * with neither text nor a photo is skipped. None of them ever joins the evaluation split.
 */
export function partitionFeedback(
  file: FeedbackFile,
  evaluation: EvaluationRows,
  recentMax: number,
): FeedbackPartition {
  const hasText = (row: FeedbackRow) =>
    row.designation.trim() !== '' || (row.description ?? '').trim() !== '';
  const usable = file.rows.filter((row) => hasText(row) || row.imagePath);
  const heldOut = Math.min(recentMax, Math.floor(usable.length / 5));
  const older = usable.slice(0, usable.length - heldOut);
  // Evaluation groups hold every row sharing a key, so the evaluation rows' titles are all the keys they own.
  const evaluationKeys = new Set(
    evaluation.products.map((row) => designationKey(row.designation)).filter((key) => key !== ''),
  );
  const trained = older.filter((row) => !evaluationKeys.has(designationKey(row.designation)));
  const example = (row: FeedbackRow): ProductExample => ({
    designation: row.designation,
    description: row.description ?? '',
    label: row.prdtypecode,
    ...(row.imagePath && { imagePath: row.imagePath }),
    origin: { file: `feedback (prediction ${row.predictionId})`, row: 1 },
  });
  const bySide = (rows: FeedbackRow[]) => ({
    products: rows.filter(hasText).map(example),
    imageOnly: rows.filter((row) => !hasText(row)).map(example),
  });
  const newest = trained.at(-1);
  return {
    train: bySide(trained),
    recent: bySide(usable.slice(usable.length - heldOut)),
    summary: {
      labels: trained.length,
      heldOut,
      withImages: trained.filter((row) => row.imagePath).length,
      missingPredictions: file.missingPredictions,
      withheldTwins: older.length - trained.length,
      empty: file.rows.length - usable.length,
      watermark: newest ? { labelledAt: newest.labelledAt, predictionId: newest.predictionId } : null,
    },
  };
}

export function recentFigures(scores: ScoredSplit): RecentFeedbackFigures {
  const report = evaluateClassification(scores.truth, scores.predicted, [...new Set(scores.truth)]);
  return { weighted_f1: report.weighted_f1, macro_f1: report.macro_f1, accuracy: report.accuracy };
}

/**
 * Adds both models' figures on the recent labels to the decision, for information. They are not a rule: the recent
 * labels are few, and skewed towards what is failing (people report wrong answers more than right ones, and an alert
 * asks for labels where the model is weak), so they show whether the candidate fixes what production gets wrong, while
 * the frozen split, large and drawn like the catalogue, judges.
 */
export function withRecentFeedback(
  decision: PromotionDecision,
  recent: RecentFeedbackScores,
): PromotionDecision & { recentFeedback: RecentFeedbackScores } {
  const f4 = (value: number) => value.toFixed(4);
  const line =
    `recent feedback (for information; the frozen split decides): on the ${recent.n} most recent labels, not ` +
    `trained on, candidate weighted F1 ${f4(recent.candidate.weighted_f1)}` +
    (recent.production ? ` vs production ${f4(recent.production.weighted_f1)}` : ', no production model');
  // The decision stays the last line.
  const reasons = [...decision.reasons.slice(0, -1), line, ...decision.reasons.slice(-1)];
  return { ...decision, reasons, recentFeedback: recent };
}
