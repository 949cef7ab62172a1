import {
  DEFAULT_TEXT_ENSEMBLE_OPTIONS,
  DEFAULT_TRAIN_OPTIONS,
  type PromotionGateOptions,
  type TrainOptions,
} from '@app/ml';

/** What a retraining job asks for (POST /v1/retraining-jobs's `params`, and the first model's job). */
export interface TrainingParams {
  seed?: number;
  neuralModels?: number;
  linearViews?: ('merged' | 'blocked')[];
  withImages?: boolean;
  /**
   * Train on a seeded random sample of at most this many rows of each file of the training side (products, extra
   * text, image-only): quick runs and tests. The evaluation split stays whole, and labelled predictions (feedback)
   * are not sampled: they are few, and the newest data. Unset: all of it.
   */
  maxRows?: number;
  /**
   * Internal (the HTTP route does not accept them): `demo` trains on the demo catalogue shipped with the code
   * instead of DATA_DIR (the first model of a fresh install); `onlyIfEmpty` skips the job when the registry already
   * has a version (two replicas asking for a first model at once get one).
   */
  dataset?: 'base' | 'demo';
  onlyIfEmpty?: boolean;
}

export function trainOptions(params: TrainingParams): TrainOptions {
  return {
    ...DEFAULT_TRAIN_OPTIONS,
    seed: params.seed ?? DEFAULT_TRAIN_OPTIONS.seed,
    withImages: params.withImages ?? DEFAULT_TRAIN_OPTIONS.withImages,
    // The demo catalogue's photos are drawings, and the quick start's first model should come in seconds: the
    // hand-made features learn them as well as the backbone would, at a fraction of the cost (docs/image-model.md).
    imageFeatures: params.dataset === 'demo' ? 'handmade' : DEFAULT_TRAIN_OPTIONS.imageFeatures,
    // 16 listings per code leave too few to hold a calibration slice out (a few rows per class), and taking them
    // from training dropped the first model below the gate's floor: a demo model is served uncalibrated (every
    // answer goes to review) rather than not at all.
    calibrationFraction: params.dataset === 'demo' ? 0 : DEFAULT_TRAIN_OPTIONS.calibrationFraction,
    text: {
      neuralModels: params.neuralModels ?? DEFAULT_TEXT_ENSEMBLE_OPTIONS.neuralModels,
      linearViews: params.linearViews ?? DEFAULT_TEXT_ENSEMBLE_OPTIONS.linearViews,
    },
  };
}

/**
 * The demo catalogue's evaluation split is 66 listings of 27 codes: a sound training scores 0.45-0.55 there (chance
 * is 0.04), so the floor set for real data (GATE_FLOOR, 0.5) would keep a quick start's first model from being
 * served by the noise of a few listings. On the demo catalogue the floor is at most DEMO_GATE_FLOOR, which still
 * rejects a broken training.
 */
export const DEMO_GATE_FLOOR = 0.3;

/** The gate's rules for a job: the configured ones (GATE_*), with the demo catalogue's floor on the demo catalogue. */
export function gateRules(params: TrainingParams, configured: PromotionGateOptions): PromotionGateOptions {
  if (params.dataset !== 'demo') return configured;
  return { ...configured, floor: Math.min(configured.floor, DEMO_GATE_FLOOR) };
}
