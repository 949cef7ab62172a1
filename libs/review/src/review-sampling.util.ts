import { createHash } from 'node:crypto';
import type { ReviewReason } from '@app/database';

/** What the model answered for one prediction, as the queue needs it to decide whether a human should look. */
export interface ReviewCandidate {
  id: string;
  modelVersion: string;
  createdAt: Date;
  prdtypecode: number;
  designation: string;
  /** The calibrated classes, most probable first (at least the top two decide the margin). */
  top: readonly { prdtypecode: number; probability: number }[];
  /** Automatic acceptance's verdict; a prediction without one (no acceptance configured) needs a human. */
  decision?: 'accept' | 'review';
}

/** Why and with which probability a prediction enters the queue. */
export interface ReviewSampling {
  reason: ReviewReason;
  /** Served in ascending order: audit (0) before review (1). */
  priority: number;
  samplingProbability: number;
}

/**
 * The audit sample is drawn first, from all traffic whatever the decision, so that audit labels are a uniform random
 * sample of what the model answered: drawn from accepted answers only, they would measure only the easy part. The
 * other predictions enter when automatic acceptance sent them to review.
 */
export function sampleForReview(
  decision: ReviewCandidate['decision'],
  auditRate: number,
  draw: number,
): ReviewSampling | undefined {
  if (draw < auditRate) return { reason: 'audit', priority: 0, samplingProbability: auditRate };
  if (decision !== 'accept') return { reason: 'review', priority: 1, samplingProbability: 1 };
  return undefined;
}

/** Top probability minus the second one, to the hundredth: the smaller, the less sure the model. */
export function uncertaintyMargin(top: ReviewCandidate['top']): number {
  const [first, second] = [...top].map((t) => t.probability).sort((a, b) => b - a);
  return Math.round(((first ?? 0) - (second ?? 0)) * 100) / 100;
}

/**
 * A key shared by near-duplicate titles: accents, case, markup, punctuation, digits, one-letter words, word order
 * and repeated words do not count ("Lot de 3 stylos BLEUS" and "stylos bleus - lot de 10" are one listing). A title
 * with no word at all (a photo alone) gets a key of its own.
 */
export function titleKey(designation: string, predictionId: string): string {
  const words = designation
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/<[^>]*>/g, ' ')
    .replace(/&[a-z]+;|&#\d+;/g, ' ')
    .split(/[^\p{L}]+/u)
    .filter((word) => word.length > 1);
  const key = words.length > 0 ? [...new Set(words)].sort().join(' ') : `\0prediction:${predictionId}`;
  return createHash('sha256').update(key).digest('hex');
}
