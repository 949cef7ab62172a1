/**
 * Chooses the fusion's image weight (p ∝ p_text · p_image^w) by cross-validation on the products that have a photo:
 * the seed's folds over products.csv (stratified 5-fold, seed 0, extra text and image_only rows in every training
 * fold); each fold's model scores its held-out products by text alone and by photo alone, and every weight is
 * applied to the same out-of-fold probabilities. Prints weighted F1 per weight: on products with a photo, and on all
 * products (those without a photo are the text alone whatever the weight).
 *
 *   npm run bench:fusion
 *
 * Environment: BENCH_NEURAL_MODELS and BENCH_LINEAR_VIEWS (the text ensemble; default the product's),
 * IMAGE_FEATURES (backbone or handmade), FOLDS, BENCH_FEATURE_CACHE.
 */
import {
  argmaxRows,
  DEFAULT_TEXT_ENSEMBLE_OPTIONS,
  DEFAULT_TRAIN_OPTIONS,
  evaluateClassification,
  extractDatasetFeatures,
  fuseProbabilities,
  imageFeatureSource,
  InThreadBackboneRunner,
  loadTrainingData,
  stratifiedKFold,
  trainProductClassifier,
  type LinearView,
  type TrainingData,
} from '@app/ml';
import { benchDataDir, benchFeatureStore } from './bench.util';

const K = 5;
const SEED = 0;
const WEIGHTS = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 1, 1.5];

async function main(): Promise<void> {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const { data } = loadTrainingData(benchDataDir());
  const options = {
    ...DEFAULT_TRAIN_OPTIONS,
    seed: SEED,
    imageFeatures: (process.env.IMAGE_FEATURES ?? DEFAULT_TRAIN_OPTIONS.imageFeatures) as
      'backbone' | 'handmade',
    text: {
      neuralModels: Number(process.env.BENCH_NEURAL_MODELS ?? DEFAULT_TEXT_ENSEMBLE_OPTIONS.neuralModels),
      linearViews: (process.env.BENCH_LINEAR_VIEWS?.split(',') ??
        DEFAULT_TEXT_ENSEMBLE_OPTIONS.linearViews) as LinearView[],
    },
  };
  const backbones = new InThreadBackboneRunner();
  const images = await extractDatasetFeatures(
    [...data.products, ...data.imageOnly],
    imageFeatureSource(options),
    log,
    { backbones, store: benchFeatureStore() },
  );
  const folds = stratifiedKFold(
    data.products.map((e) => e.label!),
    K,
    SEED,
  ).slice(0, Number(process.env.FOLDS ?? K));
  const truth: number[] = [];
  const text: Float32Array[] = [];
  const image: (Float32Array | undefined)[] = [];
  let classes: readonly number[] = [];
  for (const [f, fold] of folds.entries()) {
    const train: TrainingData = { ...data, products: fold.train.map((i) => data.products[i]) };
    const { classifier } = await trainProductClassifier(train, options, () => undefined, images);
    classes = classifier.classes;
    const test = fold.test.map((i) => data.products[i]);
    const n = classes.length;
    const textProbs = await classifier.score(
      test.map((e) => ({ text: { designation: e.designation, description: e.description } })),
    );
    const withPhoto = test.filter((e) => e.imagePath && images.features.has(e.imagePath));
    const imageProbs = await classifier.score(
      withPhoto.map((e) => ({ imageFeatures: images.features.get(e.imagePath!) })),
    );
    let next = 0;
    test.forEach((e, row) => {
      truth.push(e.label!);
      text.push(textProbs.slice(row * n, (row + 1) * n));
      const has = e.imagePath && images.features.has(e.imagePath);
      image.push(has ? imageProbs.slice(next * n, ++next * n) : undefined);
    });
    classifier.dispose();
    log(`fold ${f + 1}: ${test.length} products, ${withPhoto.length} with a photo`);
  }
  backbones.dispose();

  const n = classes.length;
  const score = (rows: number[], weight: number) => {
    const fused = new Float32Array(rows.length * n);
    rows.forEach((row, k) =>
      fuseProbabilities(text[row], image[row], weight, fused.subarray(k * n, (k + 1) * n)),
    );
    const predicted = argmaxRows(fused, n).map((c) => classes[c]);
    return evaluateClassification(
      rows.map((row) => truth[row]),
      predicted,
      [...classes],
    ).weighted_f1;
  };
  const all = truth.map((_, row) => row);
  const photo = all.filter((row) => image[row] !== undefined);
  const imageAlone = evaluateClassification(
    photo.map((row) => truth[row]),
    argmaxRows(Float32Array.from(photo.flatMap((row) => [...image[row]!])), n).map((c) => classes[c]),
    [...classes],
  ).weighted_f1;
  console.log(
    `bench:fusion  ${folds.length} of ${K} folds (seed ${SEED}), image features ${options.imageFeatures}, text ${JSON.stringify(options.text)}`,
  );
  console.log(
    `  products with a photo: ${photo.length}; image model alone on them: weighted F1 ${imageAlone.toFixed(4)}`,
  );
  console.log('| image weight | products with a photo | all products |');
  console.log('|--------------|-----------------------|--------------|');
  for (const w of WEIGHTS) {
    console.log(
      `| ${String(w).padEnd(12)} | ${score(photo, w).toFixed(4).padEnd(21)} | ${score(all, w).toFixed(4).padEnd(12)} |`,
    );
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
