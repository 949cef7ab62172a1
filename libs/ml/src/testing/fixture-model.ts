import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTrainingData } from '../training/training-data';
import { DEFAULT_TRAIN_OPTIONS, trainProductClassifier } from '../training/product-classifier.trainer';
import { writeFixtureDataset } from './fixture-dataset';

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
  }: { withImages?: boolean; imageFeatures?: 'handmade' | 'backbone' } = {},
): Promise<string> {
  const dataDir = mkdtempSync(join(tmpdir(), 'api-fixture-data-'));
  await writeFixtureDataset(dataDir);
  const { data } = loadTrainingData(dataDir);
  const options = {
    ...DEFAULT_TRAIN_OPTIONS,
    seed,
    withImages,
    imageFeatures,
    text: { neuralModels: 1, linearViews: ['merged' as const] },
  };
  const { classifier, card } = await trainProductClassifier(data, options, () => undefined);
  const modelDir = mkdtempSync(join(tmpdir(), 'api-fixture-model-'));
  await classifier.save(modelDir, {
    metrics: { validation_weighted_f1: { fixture: 1 } },
    'model-card': card,
  });
  classifier.dispose();
  return modelDir;
}
