import {
  crossValidate,
  extractDatasetFeatures,
  imageFeatureSource,
  InThreadBackboneRunner,
  DEFAULT_TEXT_ENSEMBLE_OPTIONS,
  DEFAULT_TRAIN_OPTIONS,
  loadTrainingData,
  type LinearView,
} from '@app/ml';
import { benchDataDir, benchFeatureStore } from './bench-support';

const K = 5;
const SEED = 0;

/** The accuracy benchmark: the seed's protocol (stratified 5-fold over products.csv, seed 0, extra rows in training). */
async function main(): Promise<void> {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const { data } = loadTrainingData(benchDataDir());
  // BENCH_NEURAL_MODELS and BENCH_LINEAR_VIEWS measure another text ensemble on the same protocol.
  const text = {
    neuralModels: Number(process.env.BENCH_NEURAL_MODELS ?? DEFAULT_TEXT_ENSEMBLE_OPTIONS.neuralModels),
    linearViews: (process.env.BENCH_LINEAR_VIEWS?.split(',') ??
      DEFAULT_TEXT_ENSEMBLE_OPTIONS.linearViews) as LinearView[],
  };
  const options = { ...DEFAULT_TRAIN_OPTIONS, seed: SEED, text: { ...DEFAULT_TRAIN_OPTIONS.text, ...text } };
  const backbones = new InThreadBackboneRunner();
  const images = await extractDatasetFeatures(
    [...data.products, ...data.imageOnly],
    imageFeatureSource(options),
    log,
    { backbones, store: benchFeatureStore() },
  );
  backbones.dispose();
  const started = Date.now();
  const result = await crossValidate(data, K, options, images, log);
  const row = (
    name: string,
    pick: (m: typeof result.mean) => { weighted_f1: number; macro_f1: number; accuracy: number } | undefined,
  ) => {
    const mean = pick(result.mean);
    const std = pick(result.std);
    if (!mean || !std) return;
    console.log(
      `  ${name.padEnd(34)} weighted F1 ${mean.weighted_f1.toFixed(4)} ± ${std.weighted_f1.toFixed(4)}   macro F1 ${mean.macro_f1.toFixed(4)}   accuracy ${mean.accuracy.toFixed(4)}`,
    );
  };
  console.log(
    `bench:cv  ${result.protocol.description}, seed ${SEED}, text ensemble ${JSON.stringify(text)}`,
  );
  row('products, fused (text + image)', (m) => m.products);
  row('products, text only', (m) => m.products_text_only);
  row('image_only rows, image model', (m) => m.image_only);
  console.log(
    `  per fold (products, fused): ${result.folds.map((f) => f.products.weighted_f1.toFixed(4)).join(' ')}`,
  );
  console.log(`  baseline (TF-IDF + LinearSVC):   weighted F1 0.768, macro F1 0.754`);
  console.log(`  ${((Date.now() - started) / 1000).toFixed(0)} s in all`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
