import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import type { ProductExample } from '../data/product.types';
import { InThreadBackboneRunner, type BackboneRunner } from '../image/backbone.runner';
import { backboneSource } from '../image/image.featurizer';
import {
  featureSourceKey,
  ImageClassifier,
  type ImageClassifierOptions,
  type ImageFeatureSource,
} from '../image/image.classifier';
import { DEFAULT_BACKBONE } from '../image/pretrained-backbone.model';
import { ProductClassifier } from '../model/product.classifier';
import { initBackend } from '../runtime/tf-backend.setup';
import {
  DEFAULT_TEXT_ENSEMBLE_OPTIONS,
  TextEnsemble,
  type TextEnsembleOptions,
} from '../text/text-ensemble.classifier';
import { extractDatasetFeatures, type ImageFeatureStore } from './dataset-images.loader';
import type { EpochProgress } from '../runtime/epoch-progress.types';
import type { ImageCache, Log, TrainingData } from './training.types';
import { DEFAULT_CALIBRATION_FRACTION, holdOutForCalibration } from '../calibration/calibration-split.util';
import { calibrateOnHeldOut, type DriftReference } from '../calibration/held-out.calibrator';
import { MODALITIES, type ModelCalibration } from '../calibration/model-calibration.util';

export interface TrainOptions {
  seed: number;
  /** Train the image model too (when the data has images). */
  withImages: boolean;
  /** Exponent of the image probabilities in the fusion; chosen by cross-validation (see docs/image-model.md). */
  imageWeight: number;
  /**
   * What the image model reads: the pretrained backbone shipped in the nsfwjs package (DEFAULT_BACKBONE), or the
   * hand-made descriptors of an `imageSize` decode (no backbone to run: for quick runs on drawn images).
   */
  imageFeatures: 'backbone' | 'handmade';
  imageSize: number;
  /**
   * Share of the labelled rows held out of training to calibrate the probabilities (stratified by class, drawn with
   * the seed, near-duplicate titles kept together); 0: no calibration, every row trains.
   */
  calibrationFraction?: number;
  text?: Partial<TextEnsembleOptions>;
  image?: Partial<ImageClassifierOptions>;
}

export const DEFAULT_TRAIN_OPTIONS: TrainOptions = {
  seed: 0,
  withImages: true,
  // bench:fusion, 5 folds, the 675 products with a photo, the default text ensemble: weighted F1 0.7656 at 0, 0.7759
  // at 0.1, 0.7739-0.7769 up to 0.4, falling from 0.5 on; the lowest weight of that plateau.
  imageWeight: 0.1,
  imageFeatures: 'backbone',
  imageSize: 64,
  calibrationFraction: DEFAULT_CALIBRATION_FRACTION,
};

/** Where the trainer's image features come from and go to; both optional. */
export interface TrainingResources {
  /** Runs the backbone to extract features; default: one in the calling thread for this training. */
  backbones?: BackboneRunner;
  /** Features cached by photo hash (the artifact store), read before extracting and written after. */
  featureStore?: ImageFeatureStore;
}

/** The feature source the options ask for. */
export function imageFeatureSource(
  options: Pick<TrainOptions, 'imageFeatures' | 'imageSize'>,
): ImageFeatureSource {
  return options.imageFeatures === 'handmade'
    ? { kind: 'handmade', size: options.imageSize }
    : backboneSource(DEFAULT_BACKBONE);
}

export interface ModelCard {
  createdAt: string;
  dataFingerprint: string;
  rows: {
    products: number;
    extraText: number;
    imageOnly: number;
    /** The networks' rows: the calibration slice is not among them. */
    textTraining: number;
    /** The linear models' rows: every labelled text row, the calibration slice's included (0 without linear models). */
    linearTraining: number;
    imageTraining: number;
  };
  images: { decoded: number; unreadable: number; features?: string };
  classes: number;
  parameters: TrainOptions;
  backend: string;
  runtime: { node: string; platform: string };
  timings: { textSeconds: number; imageSeconds: number; totalSeconds: number };
  history: { text: (EpochProgress & { model: string })[]; image: EpochProgress[] };
  /** Absent when no rows were held out (calibrationFraction 0). */
  calibration?: ModelCalibration;
}

export interface TrainingResult {
  classifier: ProductClassifier;
  card: ModelCard;
  /** The held-out slice as the model answers it (drift-reference.json); absent without calibration. */
  driftReference?: DriftReference;
}

export async function trainProductClassifier(
  data: TrainingData,
  options: TrainOptions,
  log: Log,
  decoded?: ImageCache,
  /**
   * Each network's figures after each epoch, with the line that describes them: given, it receives that line
   * instead of `log`, so that a caller reporting structured progress does not see each epoch twice.
   */
  onEpoch?: (model: string, progress: EpochProgress, line: string) => void,
  resources: TrainingResources = {},
): Promise<TrainingResult> {
  const started = Date.now();
  const epochDone = onEpoch ?? ((_model: string, _p: EpochProgress, line: string) => log(line));
  const backend = await initBackend(log);
  const fraction = options.calibrationFraction ?? DEFAULT_CALIBRATION_FRACTION;
  const { train: fitData, heldOut, withheldTwins } = holdOutForCalibration(data, fraction, options.seed);
  const heldOutRows = [...heldOut.products, ...heldOut.imageOnly];
  const textRows = [...fitData.products, ...fitData.extraText].filter(hasLabel);
  const classes = [...new Set([...textRows, ...fitData.imageOnly, ...heldOutRows].map((e) => e.label!))].sort(
    (a, b) => a - b,
  );
  if (textRows.length === 0) throw new Error('No labelled text rows to train on');
  const indexOf = new Map(classes.map((code, i) => [code, i]));
  log(
    `training on ${textRows.length} text rows over ${classes.length} classes (seed ${options.seed}); ` +
      `${heldOutRows.length} rows held out for calibration`,
  );

  const history: ModelCard['history'] = { text: [], image: [] };
  const textStarted = Date.now();
  const texts = textRows.map(({ designation, description }) => ({ designation, description }));
  const textLabels = textRows.map((e) => indexOf.get(e.label!)!);
  const textOptions = { ...DEFAULT_TEXT_ENSEMBLE_OPTIONS, ...options.text, seed: options.seed };
  let text = await TextEnsemble.train(texts, textLabels, classes.length, textOptions, log, (model, p) => {
    history.text.push({ model, ...p });
    epochDone(model, p, progressLine(model, p));
  });
  let textSeconds = (Date.now() - textStarted) / 1000;
  log(`text models trained in ${textSeconds.toFixed(1)} s`);

  let image: ImageClassifier | undefined;
  const source = imageFeatureSource(options);
  let images: ImageCache = decoded ?? { source: '', features: new Map(), unreadable: [] };
  let imageTraining = 0;
  const imageStarted = Date.now();
  if (options.withImages) {
    const withImage = [...fitData.products, ...fitData.imageOnly].filter((e) => hasLabel(e) && e.imagePath);
    const heldOutWithImage = heldOutRows.filter((e) => e.imagePath);
    if (decoded && decoded.source !== featureSourceKey(source)) {
      throw new Error(
        `the image features given are from ${decoded.source}, the options ask for ${featureSourceKey(source)}`,
      );
    }
    if (!decoded) {
      const backbones = resources.backbones ?? new InThreadBackboneRunner();
      try {
        images = await extractDatasetFeatures([...withImage, ...heldOutWithImage], source, log, {
          backbones,
          store: resources.featureStore,
        });
      } finally {
        if (!resources.backbones) backbones.dispose();
      }
    }
    const usable = withImage.filter((e) => images.features.has(e.imagePath!));
    imageTraining = usable.length;
    if (usable.length >= classes.length * 2) {
      log(`training image model on ${usable.length} images`);
      image = await ImageClassifier.trainOnFeatures(
        usable.map((e) => images.features.get(e.imagePath!)!),
        usable.map((e) => indexOf.get(e.label!)!),
        classes.length,
        source,
        { ...options.image, seed: options.seed },
        (p) => {
          history.image.push(p);
          epochDone('image', p, progressLine('image', p));
        },
      );
    } else {
      log(`image model skipped: only ${usable.length} usable images`);
    }
  }
  const imageSeconds = (Date.now() - imageStarted) / 1000;

  let calibration: ModelCalibration | undefined;
  let driftReference: DriftReference | undefined;
  if (fraction > 0) {
    const fitted = calibrateOnHeldOut(
      { classes, text, image, imageWeight: options.imageWeight },
      heldOut,
      images.features,
    );
    calibration = {
      schema: 1,
      method: 'temperature',
      heldOut: {
        fraction,
        seed: options.seed,
        products: heldOut.products.length,
        imageOnly: heldOut.imageOnly.length,
        withheldTwins,
      },
      modalities: fitted.modalities,
    };
    driftReference = fitted.driftReference;
    for (const modality of MODALITIES) {
      const fit = fitted.modalities[modality];
      if (!fit) continue;
      log(
        `calibration (${modality}, ${fit.n} held-out rows): temperature ${fit.temperature.toFixed(3)}, ` +
          `ECE ${fit.ece.before.toFixed(4)} → ${fit.ece.after.toFixed(4)}`,
      );
    }
  }
  // Once the temperatures are fitted, the linear models (the strongest single votes, seconds to train) learn the
  // slice too, as if nothing had been held out (5-fold CV, text only: 0.7760 → 0.7804). The networks stay as trained,
  // and the temperatures and the drift reference stay those of the model that had not seen the slice: what a new row
  // meets.
  const linearRows = [...data.products, ...data.extraText].filter(hasLabel);
  if (linearRows.length > textRows.length) {
    const refitStarted = Date.now();
    text = text.withLinearRetrained(
      linearRows.map(({ designation, description }) => ({ designation, description })),
      linearRows.map((e) => indexOf.get(e.label!)!),
      textOptions,
      log,
    );
    textSeconds += (Date.now() - refitStarted) / 1000;
  }

  const classifier = new ProductClassifier({
    classes,
    categoryNames: Object.fromEntries(classes.map((c) => [String(c), data.categoryNames[c] ?? String(c)])),
    imageWeight: options.imageWeight,
    text,
    image,
    backbones: resources.backbones,
    calibration,
  });
  const card: ModelCard = {
    createdAt: new Date().toISOString(),
    dataFingerprint: fingerprint(data),
    rows: {
      products: data.products.length,
      extraText: data.extraText.length,
      imageOnly: data.imageOnly.length,
      textTraining: textRows.length,
      linearTraining: textOptions.linearViews.length > 0 ? linearRows.length : 0,
      imageTraining,
    },
    images: {
      decoded: images.features.size,
      unreadable: images.unreadable.length,
      ...(options.withImages && { features: images.source }),
    },
    classes: classes.length,
    parameters: options,
    backend,
    runtime: { node: process.version, platform: `${process.platform}-${process.arch}` },
    timings: { textSeconds, imageSeconds, totalSeconds: (Date.now() - started) / 1000 },
    history,
    ...(calibration && { calibration }),
  };
  log(`training done in ${card.timings.totalSeconds.toFixed(1)} s`);
  return { classifier, card, ...(driftReference && { driftReference }) };
}

function hasLabel(example: ProductExample): boolean {
  return example.label !== undefined;
}

function progressLine(model: string, p: EpochProgress): string {
  return `${model} epoch ${p.epoch}: loss ${p.loss.toFixed(4)}, val weighted F1 ${p.valWeightedF1.toFixed(4)}, ${p.seconds.toFixed(1)} s`;
}

/** Identifies the training data by content, whatever layout it came in: the same rows give the same hash. */
function fingerprint(data: TrainingData): string {
  const hash = createHash('sha256');
  for (const [name, rows] of Object.entries({
    products: data.products,
    extraText: data.extraText,
    imageOnly: data.imageOnly,
  })) {
    hash.update(`${name}\n`);
    for (const row of rows) {
      hash.update(
        `${row.label ?? ''}\t${row.designation}\t${row.description}\t${row.imagePath ? basename(row.imagePath) : ''}\n`,
      );
    }
  }
  return `sha256:${hash.digest('hex')}`;
}

/**
 * The figures a registry shows for a freshly trained model: the best validation weighted F1 of each network on
 * its own held-out split (the linear models have no validation run).
 */
export function validationMetrics(card: ModelCard): {
  validation_weighted_f1: Record<string, number>;
  calibration?: Record<string, CalibrationFigures>;
} {
  const best: Record<string, number> = {};
  for (const p of card.history.text) best[p.model] = Math.max(best[p.model] ?? 0, p.valWeightedF1);
  if (card.history.image.length) best.image = Math.max(...card.history.image.map((p) => p.valWeightedF1));
  const fitted = Object.keys(card.calibration?.modalities ?? {}).length > 0;
  if (!card.calibration || !fitted) return { validation_weighted_f1: best };
  const calibration: Record<string, CalibrationFigures> = {};
  for (const [modality, fit] of Object.entries(card.calibration.modalities)) {
    calibration[modality] = {
      n: fit.n,
      temperature: fit.temperature,
      ece_before: fit.ece.before,
      ece_after: fit.ece.after,
      accuracy: fit.accuracy,
    };
  }
  return { validation_weighted_f1: best, calibration };
}

/** One modality's calibration in a version's metrics; the model card holds the tables and the curve. */
export interface CalibrationFigures {
  n: number;
  temperature: number;
  ece_before: number;
  ece_after: number;
  accuracy: number;
}

/** The documents a trained model's directory holds besides its metrics and card (drift-reference.json). */
export function trainingDocuments(result: Pick<TrainingResult, 'driftReference'>): Record<string, unknown> {
  return result.driftReference ? { 'drift-reference': result.driftReference } : {};
}
