import { existsSync, readFileSync } from 'node:fs';
import { loadTrainingData, ProductClassifier, type PredictionInput } from '@app/ml';
import { BENCH_MODEL_DIR, benchDataDir, mib, percentile } from './bench.util';

const SINGLE_RUNS = 2000;
const IMAGE_RUNS = 500;
const BATCH = 256;
const SMALL_BATCH = 32;
const BATCH_ROUNDS = 20;

async function latencies(
  classifier: ProductClassifier,
  items: PredictionInput[],
  runs: number,
): Promise<number[]> {
  for (const item of items.slice(0, 50)) await classifier.predict([item]);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const item = items[i % items.length];
    const t0 = process.hrtime.bigint();
    await classifier.predict([item]);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return times.sort((a, b) => a - b);
}

const show = (label: string, sorted: number[], target: string) =>
  console.log(
    `  ${label.padEnd(22)} p50 ${percentile(sorted, 50).toFixed(2)} ms  p99 ${percentile(sorted, 99).toFixed(2)} ms  (target: ${target})`,
  );

/** In-process prediction latency and throughput of the model written by bench:train, on one core. */
async function main(): Promise<void> {
  if (!existsSync(`${BENCH_MODEL_DIR}/model.json`)) {
    console.error(
      `No model at ${BENCH_MODEL_DIR}: run "npm run bench:train" first (or set BENCH_MODEL_DIR).`,
    );
    process.exit(1);
  }
  // Resident memory is read before the benchmark data is loaded, so it is the runtime plus the model alone.
  const rssBefore = process.memoryUsage().rss;
  const loadStarted = Date.now();
  const classifier = await ProductClassifier.load(BENCH_MODEL_DIR);
  const loadMs = Date.now() - loadStarted;
  const rssLoaded = process.memoryUsage().rss;
  const { data } = loadTrainingData(benchDataDir());

  const texts: PredictionInput[] = data.products.map((e) => ({
    designation: e.designation,
    description: e.description,
  }));
  const withImages: PredictionInput[] = data.products
    .filter((e) => e.imagePath)
    .map((e) => ({
      designation: e.designation,
      description: e.description,
      image: readFileSync(e.imagePath!),
    }));

  console.log(`bench:predict  model ${BENCH_MODEL_DIR} (loaded in ${loadMs} ms)`);
  const single = await latencies(classifier, texts, SINGLE_RUNS);
  show('text item', single, 'p99 < 5 ms');
  if (classifier.hasImageModel) {
    show('text+image item', await latencies(classifier, withImages, IMAGE_RUNS), 'p99 < 25 ms');
  }
  const meanMs = single.reduce((sum, ms) => sum + ms, 0) / single.length;
  console.log(`  text items one by one  ${(1000 / meanMs).toFixed(0)} items/s  (one predict call each)`);
  for (const size of [SMALL_BATCH, BATCH]) {
    const batches = Array.from({ length: Math.floor(texts.length / size) }, (_, b) =>
      texts.slice(b * size, (b + 1) * size),
    );
    const rounds = Math.ceil((BATCH * BATCH_ROUNDS) / size);
    await classifier.predict(batches[0]);
    const t0 = process.hrtime.bigint();
    for (let r = 0; r < rounds; r++) await classifier.predict(batches[r % batches.length]);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    console.log(
      `  ${`text batch of ${size}`.padEnd(22)} ${((size * rounds) / seconds).toFixed(0)} items/s` +
        (size === BATCH ? '  (target: > 5,000 items/s)' : ''),
    );
  }
  const rssEnd = process.memoryUsage().rss;
  console.log(
    `  resident memory        ${mib(rssLoaded)} after load (+${mib(rssLoaded - rssBefore)} for the model), ${mib(rssEnd)} with the data after the runs  (target: < 300 MB)`,
  );
  classifier.dispose();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
