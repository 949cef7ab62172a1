/**
 * The image model alone, cross-validated on image_only.csv: stratified 5 folds (seed 42); each fold trains on the
 * other folds of image_only plus every products.csv row with a photo, and is scored on its held-out fold. Every
 * feature source below runs on the same folds, and prints one line of the table; then one photo's latency (decode,
 * features, head) for the last source.
 *
 *   npm run bench:image
 *
 * Environment: IMAGE_SOURCES (comma-separated, default "handmade,backbone"; also "mnv2-block13" for the fine-tuned
 * network's mid layer, "mid-block12+13" and "mid-feature-vector"), HEADS (comma-separated heads tried on each source,
 * default "linear"; "linear,mlp" for both), FOLDS (how many of the 5 folds, default 5), SEED, C (linear head),
 * EPOCHS, DROPOUT, HIDDEN_UNITS (MLP head), BENCH_FEATURE_CACHE (features by photo hash; the first run extracts).
 */
import { readFile } from 'node:fs/promises';
import {
  argmaxRows,
  backboneSource,
  computeImageFeatures,
  decodeImage,
  DEFAULT_BACKBONE,
  evaluateClassification,
  extractDatasetFeatures,
  featureSourceKey,
  ImageClassifier,
  initBackend,
  InThreadBackboneRunner,
  loadRakutenDataset,
  PRODUCT_TYPE_CODES,
  stratifiedKFold,
  type ImageFeatureSource,
  type ImageHead,
} from '@app/ml';
import { benchDataDir, benchFeatureStore, percentile } from './bench.util';

const K = 5;
const env = (name: string): number | undefined => (process.env[name] ? Number(process.env[name]) : undefined);

const SOURCES: Record<string, () => ImageFeatureSource> = {
  handmade: () => ({ kind: 'handmade', size: 64 }),
  backbone: () => backboneSource(DEFAULT_BACKBONE),
  'mid-block12+13': () =>
    backboneSource({
      ...DEFAULT_BACKBONE,
      layers: ['expanded_conv_12/add', 'expanded_conv_13/expand/Relu6'],
    }),
  'mid-feature-vector': () => backboneSource({ ...DEFAULT_BACKBONE, layers: ['Conv_1/Relu6'] }),
  'mnv2-block13': () =>
    backboneSource({ model: 'mobilenet_v2', layers: ['block_13_expand_relu'], pooling: 'mean', size: 224 }),
};

async function main(): Promise<void> {
  const backend = await initBackend((m) => console.log(m));
  const seed = env('SEED') ?? 42;
  const folds = env('FOLDS') ?? K;
  const options = {
    seed,
    c: env('C'),
    epochs: env('EPOCHS'),
    dropout: env('DROPOUT'),
    hiddenUnits: env('HIDDEN_UNITS'),
  };
  const names = (process.env.IMAGE_SOURCES ?? 'handmade,backbone').split(',');
  const unknown = names.filter((name) => !(name in SOURCES));
  if (unknown.length)
    throw new Error(`unknown IMAGE_SOURCES ${unknown.join(', ')}: ${Object.keys(SOURCES).join(', ')}`);
  const heads = (process.env.HEADS ?? 'linear').split(',') as ImageHead[];
  if (heads.some((h) => h !== 'linear' && h !== 'mlp')) throw new Error('HEADS: linear, mlp');

  const dataset = loadRakutenDataset(benchDataDir());
  const classIndex = new Map(PRODUCT_TYPE_CODES.map((code, i) => [code, i]));
  const labelled = (rows: typeof dataset.products) =>
    rows.filter((r) => r.imagePath !== undefined && r.label !== undefined);
  const products = labelled(dataset.products);
  const imageOnly = labelled(dataset.imageOnly);
  const labelOf = (r: (typeof products)[number]) => classIndex.get(r.label!)!;
  const classes = PRODUCT_TYPE_CODES.map((_, i) => i);
  const store = benchFeatureStore();
  const backbones = new InThreadBackboneRunner();
  const log = (line: string) => console.log(`  ${line}`);
  const table: string[] = [];
  let last: { source: ImageFeatureSource; model: ImageClassifier } | undefined;

  for (const name of names) {
    const source = SOURCES[name]();
    console.log(`${name}: ${featureSourceKey(source)}`);
    const cache = await extractDatasetFeatures([...products, ...imageOnly], source, log, {
      backbones,
      store,
    });
    const has = (r: (typeof products)[number]) => cache.features.has(r.imagePath!);
    const trainProducts = products.filter(has);
    const scored = imageOnly.filter(has);
    for (const head of heads) {
      const results: { f1: number; seconds: number }[] = [];
      for (const [f, fold] of stratifiedKFold(scored.map(labelOf), K, seed).slice(0, folds).entries()) {
        const rows = [...trainProducts, ...fold.train.map((i) => scored[i])];
        const started = Date.now();
        const model = await ImageClassifier.trainOnFeatures(
          rows.map((r) => cache.features.get(r.imagePath!)!),
          rows.map(labelOf),
          classes.length,
          source,
          { ...options, head },
        );
        const seconds = (Date.now() - started) / 1000;
        const test = fold.test.map((i) => scored[i]);
        const predicted = argmaxRows(
          model.predictFeatures(test.map((r) => cache.features.get(r.imagePath!)!)),
          classes.length,
        );
        const f1 = evaluateClassification(test.map(labelOf), predicted, classes).weighted_f1;
        results.push({ f1, seconds });
        console.log(`  fold ${f + 1}: weighted F1 ${f1.toFixed(3)}, head trained in ${seconds.toFixed(1)} s`);
        if (last) last.model.dispose();
        last = { source, model };
      }
      const mean = results.reduce((s, r) => s + r.f1, 0) / results.length;
      const std = Math.sqrt(results.reduce((s, r) => s + (r.f1 - mean) ** 2, 0) / results.length);
      const train = results.reduce((s, r) => s + r.seconds, 0) / results.length;
      table.push(
        `| ${name.padEnd(20)} | ${head.padEnd(6)} | ${String(last!.model.featureLength).padStart(8)} | ${mean.toFixed(3)} ± ${std.toFixed(3)} | ${train.toFixed(1).padStart(6)} s |`,
      );
    }
  }
  console.log(
    `\nbench:image (${backend}): image_only weighted F1, ${folds} of ${K} stratified folds, seed ${seed}`,
  );
  console.log('| features             | head   | length   | weighted F1   | fit    |');
  console.log('|----------------------|--------|----------|---------------|--------|');
  for (const line of table) console.log(line);

  if (!last) return;
  // One photo at a time, as a prediction pays for it: decode at the source's size, features, head.
  const { source, model } = last;
  const size = source.kind === 'handmade' ? source.size : source.backbone.size;
  const bytes = await Promise.all(imageOnly.slice(0, 100).map((r) => readFile(r.imagePath!)));
  await computeImageFeatures(source, [await decodeImage(bytes[0], size)], backbones);
  const decodeMs: number[] = [];
  const featureMs: number[] = [];
  const totalMs: number[] = [];
  for (const b of bytes) {
    const t0 = performance.now();
    const pixels = await decodeImage(b, size);
    const t1 = performance.now();
    const features = await computeImageFeatures(source, [pixels], backbones);
    const t2 = performance.now();
    model.predictFeatures(features);
    const t3 = performance.now();
    decodeMs.push(t1 - t0);
    featureMs.push(t2 - t1);
    totalMs.push(t3 - t0);
  }
  const line = (label: string, ms: number[]) => {
    ms.sort((a, b) => a - b);
    return `${label} p50 ${percentile(ms, 50).toFixed(1)} ms, p99 ${percentile(ms, 99).toFixed(1)} ms`;
  };
  console.log(
    `\none photo, ${names.at(-1)} (${bytes.length} runs, calling thread): ${line('decode', decodeMs)}; ` +
      `${line('features', featureMs)}; ${line('all', totalMs)}`,
  );
  model.dispose();
  backbones.dispose();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
