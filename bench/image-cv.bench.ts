/**
 * Image-only classifier (hand-made features + MLP), cross-validated on image_only.csv: stratified 5 folds; each fold trains on the other
 * folds of image_only plus every products.csv row with an image, and is scored on its held-out fold.
 * Also measures decode + predict latency for one image at a time.
 *
 *   npm run bench:image
 *
 * Environment: FOLDS (how many of the 5 folds to run, default 5), IMAGE_SIZE (default 64), EPOCHS, MAX_SECONDS
 * (training time cap), SEED, DROPOUT, HIDDEN_UNITS.
 */
import { readFile } from 'node:fs/promises';
import {
  argmaxRows,
  decodeImage,
  decodeImageFiles,
  evaluateClassification,
  ImageClassifier,
  initBackend,
  loadRakutenDataset,
  PRODUCT_TYPE_CODES,
  rakutenDataDir,
  stratifiedKFold,
} from '@app/ml';
import { percentile } from './bench-support';

const K = 5;
const env = (name: string): number | undefined => (process.env[name] ? Number(process.env[name]) : undefined);

interface Labelled {
  path: string;
  label: number;
}

async function decodeAll(
  rows: Labelled[],
  size: number,
): Promise<{ pixels: Uint8Array[]; labels: number[] }> {
  const decoded = await decodeImageFiles(
    rows.map((r) => r.path),
    size,
  );
  for (const u of decoded.unreadable) console.warn(`skipped ${u.path}: ${u.reason}`);
  return { pixels: decoded.pixels, labels: decoded.indices.map((i) => rows[i].label) };
}

async function main(): Promise<void> {
  const dir = rakutenDataDir();
  if (!dir) throw new Error('Rakuten data not found: set RAKUTEN_DATA_DIR');
  const backend = await initBackend((m) => console.log(m));
  const size = env('IMAGE_SIZE') ?? 64;
  const seed = env('SEED') ?? 42;
  const folds = env('FOLDS') ?? K;
  const options = {
    seed,
    size,
    epochs: env('EPOCHS'),
    maxSeconds: env('MAX_SECONDS'),
    dropout: env('DROPOUT'),
    hiddenUnits: env('HIDDEN_UNITS'),
  };

  const dataset = loadRakutenDataset(dir);
  const classIndex = new Map(PRODUCT_TYPE_CODES.map((code, i) => [code, i]));
  const labelled = (rows: typeof dataset.products): Labelled[] =>
    rows
      .filter((r) => r.imagePath !== undefined && r.label !== undefined)
      .map((r) => ({ path: r.imagePath as string, label: classIndex.get(r.label as number) as number }));

  let t = Date.now();
  const products = await decodeAll(labelled(dataset.products), size);
  const imageOnly = await decodeAll(labelled(dataset.imageOnly), size);
  const decodeSeconds = (Date.now() - t) / 1000;
  console.log(
    `${backend}, ${size}×${size}: decoded ${products.pixels.length} product + ${imageOnly.pixels.length} image-only ` +
      `images in ${decodeSeconds.toFixed(1)} s`,
  );

  const classes = PRODUCT_TYPE_CODES.map((_, i) => i);
  const results: { f1: number; accuracy: number; seconds: number }[] = [];
  let lastModel: ImageClassifier | undefined;
  for (const [f, fold] of stratifiedKFold(imageOnly.labels, K, seed).slice(0, folds).entries()) {
    const pixels = [...products.pixels, ...fold.train.map((i) => imageOnly.pixels[i])];
    const labels = [...products.labels, ...fold.train.map((i) => imageOnly.labels[i])];
    t = Date.now();
    const model = await ImageClassifier.train(pixels, labels, classes.length, options, (p) =>
      console.log(
        `  fold ${f + 1} epoch ${p.epoch}: loss ${p.loss.toFixed(3)}, val wF1 ${p.valWeightedF1.toFixed(3)}, ` +
          `${p.seconds.toFixed(1)} s`,
      ),
    );
    const seconds = (Date.now() - t) / 1000;
    const proba = model.predictProba(fold.test.map((i) => imageOnly.pixels[i]));
    const predicted = argmaxRows(proba, classes.length);
    const report = evaluateClassification(
      fold.test.map((i) => imageOnly.labels[i]),
      predicted,
      classes,
    );
    results.push({ f1: report.weighted_f1, accuracy: report.accuracy, seconds });
    console.log(
      `fold ${f + 1}: weighted F1 ${report.weighted_f1.toFixed(3)}, accuracy ${report.accuracy.toFixed(3)}, ` +
        `train ${pixels.length} images in ${seconds.toFixed(1)} s`,
    );
    lastModel?.dispose();
    lastModel = model;
  }
  const mean = (key: 'f1' | 'accuracy' | 'seconds'): number =>
    results.reduce((s, r) => s + r[key], 0) / results.length;
  console.log(
    `mean over ${results.length} folds: weighted F1 ${mean('f1').toFixed(3)}, accuracy ${mean('accuracy').toFixed(3)}, ` +
      `training ${mean('seconds').toFixed(1)} s`,
  );

  if (!lastModel) return;
  const { files } = await lastModel.serialize();
  const weightBytes = Object.values(files).reduce((s, b) => s + b.length, 0);
  console.log(`model weights: ${(weightBytes / 1024).toFixed(0)} KiB`);

  const samples = dataset.imageOnly.slice(0, 200).map((r) => r.imagePath as string);
  const bytes = await Promise.all(samples.map((p) => readFile(p)));
  lastModel.predictProba([await decodeImage(bytes[0], size)]);
  const decodeMs: number[] = [];
  const totalMs: number[] = [];
  for (const b of bytes) {
    const t0 = performance.now();
    const pixels = await decodeImage(b, size);
    const t1 = performance.now();
    lastModel.predictProba([pixels]);
    const t2 = performance.now();
    decodeMs.push(t1 - t0);
    totalMs.push(t2 - t0);
  }
  decodeMs.sort((a, b) => a - b);
  totalMs.sort((a, b) => a - b);
  console.log(
    `one image (${bytes.length} runs): decode p50 ${percentile(decodeMs, 50).toFixed(1)} ms, ` +
      `p99 ${percentile(decodeMs, 99).toFixed(1)} ms; decode + predict p50 ${percentile(totalMs, 50).toFixed(1)} ms, ` +
      `p99 ${percentile(totalMs, 99).toFixed(1)} ms`,
  );
  lastModel.dispose();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
