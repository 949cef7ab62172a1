import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { splitForEvaluation, type EvaluationSplit } from '../evaluation/evaluation-split.util';
import type { ProductClassifier } from '../model/product.classifier';
import { writeFixtureDataset } from '../testing/dataset.fixture';
import { DEFAULT_TRAIN_OPTIONS, trainProductClassifier } from '../fitting/product-classifier.trainer';
import { loadTrainingData } from '../fitting/training-data.util';
import { decidePromotion } from './promotion.gate';
import { evaluateOnSplit, NO_PREDICTION } from './split.scorer';

describe('evaluateOnSplit', () => {
  let dir: string;
  let split: EvaluationSplit;
  let classifier: ProductClassifier;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'split-scorer-'));
    await writeFixtureDataset(dir);
    // A large fraction, so that the fixture's few groups leave rows of every kind on the evaluation side.
    split = splitForEvaluation(loadTrainingData(dir).data, { fraction: 0.4, salt: 'split-scorer-spec' });
    const options = { ...DEFAULT_TRAIN_OPTIONS, text: { neuralModels: 1, linearViews: ['merged' as const] } };
    ({ classifier } = await trainProductClassifier(split.train, options, () => undefined));
  });

  afterAll(() => {
    classifier?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers each evaluation row as the service would, products first, then image-only rows', async () => {
    const { products, imageOnly } = split.evaluation;
    expect(products.length).toBeGreaterThan(0);
    expect(imageOnly.length).toBeGreaterThan(0);
    const scores = await evaluateOnSplit(classifier, split.evaluation, { splitHash: split.splitHash });
    expect(scores.truth).toEqual([...products, ...imageOnly].map((e) => e.label));
    expect(scores.splitHash).toBe(split.splitHash);
    expect(scores.rows).toEqual({
      products: products.length,
      imageOnly: imageOnly.length,
      withImage: products.filter((e) => e.imagePath).length + imageOnly.length,
      unscored: 0,
    });
    const served = await classifier.predict(
      [...products, ...imageOnly].map((e) => ({
        designation: e.designation,
        description: e.description,
        image: e.imagePath ? readFileSync(e.imagePath) : undefined,
      })),
    );
    expect(scores.predicted).toEqual(served.map((p) => p.prdtypecode));
    // The fixture's classes are easy: a model trained on the other side must pass the gate's floor on its own.
    expect(decidePromotion(scores, null).promote).toBe(true);
  });

  it('scores image-only rows it has no photo for as unscored, and uses the photos it is given', async () => {
    const noPhotos = {
      source: classifier.imageFeatureSource!,
      features: new Map<string, Float32Array>(),
      unreadable: [],
    };
    const scores = await evaluateOnSplit(classifier, split.evaluation, { images: noPhotos });
    const { products, imageOnly } = split.evaluation;
    expect(scores.rows).toMatchObject({ withImage: 0, unscored: imageOnly.length });
    expect(scores.predicted.slice(products.length)).toEqual(imageOnly.map(() => NO_PREDICTION));
    const textOnly = await classifier.predict(
      products.map((e) => ({ designation: e.designation, description: e.description })),
    );
    expect(scores.predicted.slice(0, products.length)).toEqual(textOnly.map((p) => p.prdtypecode));
  });
});
