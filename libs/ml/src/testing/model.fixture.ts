import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTrainingData } from '../fitting/training-data.util';
import {
  DEFAULT_TRAIN_OPTIONS,
  trainingDocuments,
  trainProductClassifier,
  validationMetrics,
} from '../fitting/product-classifier.trainer';
import { writeFixtureDataset } from './dataset.fixture';

/**
 * Trains a small but real model (text + image) on the fixture dataset and writes it as `npm run train` would.
 * A lean ensemble and the hand-made image features keep it to a few seconds; `imageFeatures: 'backbone'` runs the
 * pretrained backbone instead. `withImages: false` gives a model without an image part.
 */
export async function trainFixtureModel(
  seed = 0,
  {
    withImages = true,
    imageFeatures = 'handmade',
    calibrationFraction = DEFAULT_TRAIN_OPTIONS.calibrationFraction,
  }: {
    withImages?: boolean;
    imageFeatures?: 'handmade' | 'backbone';
    /** The fixture's titles come in groups of five near-duplicates: 0.5 leaves about 19 text rows to calibrate on. */
    calibrationFraction?: number;
  } = {},
): Promise<string> {
  const dataDir = mkdtempSync(join(tmpdir(), 'api-fixture-data-'));
  await writeFixtureDataset(dataDir);
  const { data } = loadTrainingData(dataDir);
  const options = {
    ...DEFAULT_TRAIN_OPTIONS,
    seed,
    withImages,
    imageFeatures,
    calibrationFraction,
    // Equal votes: on the fixture's separable words the SVM alone is all but certain, and the tests need answers whose
    // probabilities are not a rounded 1.
    text: { neuralModels: 1, linearViews: ['merged' as const], linearVote: 0.5 },
  };
  const trained = await trainProductClassifier(data, options, () => undefined);
  const { classifier, card } = trained;
  const modelDir = mkdtempSync(join(tmpdir(), 'api-fixture-model-'));
  await classifier.save(modelDir, {
    metrics: { ...validationMetrics(card), validation_weighted_f1: { fixture: 1 } },
    'model-card': card,
    ...trainingDocuments(trained),
  });
  classifier.dispose();
  return modelDir;
}
