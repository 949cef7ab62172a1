/**
 * The accuracy benchmark: the seed's protocol (stratified 5-fold over products.csv, seed 0, extra rows in training),
 * and on the same folds a scikit-learn peer (bench/sklearn-peer.py: TF-IDF word and character n-grams, LinearSVC)
 * when /usr/bin/python3 imports scikit-learn. Both lines are printed.
 *
 *   npm run bench:cv
 *
 * Environment: BENCH_NEURAL_MODELS and BENCH_LINEAR_VIEWS (another text ensemble on the same protocol), BENCH_PEER
 * (`only`: the peer alone; `off`: the product alone), BENCH_FEATURE_CACHE.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import {
  crossValidate,
  extractDatasetFeatures,
  imageFeatureSource,
  InThreadBackboneRunner,
  DEFAULT_TEXT_ENSEMBLE_OPTIONS,
  DEFAULT_TRAIN_OPTIONS,
  loadTrainingData,
  stratifiedKFold,
  type LinearView,
  type TrainingData,
} from '@app/ml';
import { benchDataDir, benchFeatureStore } from './bench.util';

const K = 5;
const SEED = 0;

const PYTHON = '/usr/bin/python3';
type Scores = { weighted_f1: number; macro_f1: number; accuracy: number };

/** The peer's scores per fold, or why it did not run. */
function sklearnPeer(data: TrainingData): { folds: Scores[]; seconds: number } | string {
  const probe = spawnSync(PYTHON, ['-c', 'import sklearn'], { encoding: 'utf8' });
  if (probe.status !== 0) return `not run: ${PYTHON} cannot import scikit-learn`;
  const row = (e: TrainingData['products'][number]) => [e.designation, e.description ?? '', e.label];
  const input = JSON.stringify({
    products: data.products.map(row),
    extra: data.extraText.map(row),
    folds: stratifiedKFold(
      data.products.map((e) => e.label!),
      K,
      SEED,
    ).map((f) => f.test),
  });
  const run = spawnSync(PYTHON, [resolve(__dirname, 'sklearn-peer.py')], {
    input,
    encoding: 'utf8',
    maxBuffer: 1 << 24,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  if (run.status !== 0) return `failed with exit code ${run.status}`;
  return JSON.parse(run.stdout) as { folds: Scores[]; seconds: number };
}

function meanStd(folds: Scores[], key: keyof Scores): [number, number] {
  const mean = folds.reduce((s, f) => s + f[key], 0) / folds.length;
  return [mean, Math.sqrt(folds.reduce((s, f) => s + (f[key] - mean) ** 2, 0) / folds.length)];
}

async function main(): Promise<void> {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const { data } = loadTrainingData(benchDataDir());
  const peerMode = process.env.BENCH_PEER ?? 'on';
  const peer = peerMode === 'off' ? 'not run: BENCH_PEER=off' : sklearnPeer(data);
  const peerLine = () =>
    typeof peer === 'string'
      ? `  scikit-learn peer (TF-IDF word+char, LinearSVC): ${peer}`
      : `  ${'scikit-learn peer (TF-IDF + LinearSVC)'.padEnd(34)} weighted F1 ${meanStd(
          peer.folds,
          'weighted_f1',
        )
          .map((v) => v.toFixed(4))
          .join(' ± ')}   macro F1 ${meanStd(peer.folds, 'macro_f1')[0].toFixed(4)}   accuracy ${meanStd(
          peer.folds,
          'accuracy',
        )[0].toFixed(
          4,
        )}   (per fold ${peer.folds.map((f) => f.weighted_f1.toFixed(4)).join(' ')}; ${peer.seconds.toFixed(0)} s)`;
  if (peerMode === 'only') {
    console.log(`bench:cv  stratified ${K}-fold over products, seed ${SEED}: the peer alone`);
    console.log(peerLine());
    return;
  }
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
  console.log(peerLine());
  console.log(`  seed's stack (TF-IDF + LinearSVC):  weighted F1 0.768, macro F1 0.754`);
  console.log(`  ${((Date.now() - started) / 1000).toFixed(0)} s in all`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
