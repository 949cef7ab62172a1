import { rmSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { DEFAULT_TRAIN_OPTIONS, loadTrainingData, trainProductClassifier } from '@app/ml';
import { BENCH_MODEL_DIR, benchDataDir, benchFeatureStore, mib } from './bench.util';

/**
 * Trains on all of the Rakuten folder, as `npm run train` does, and prints where the time goes. Image features come
 * from the bench's feature cache, as a retraining reads them from the artifact store: only the first run extracts.
 */
async function main(): Promise<void> {
  const dir = benchDataDir();
  const startLoad = loadavg()[0];
  const started = Date.now();
  const { data } = loadTrainingData(dir);
  const loadSeconds = (Date.now() - started) / 1000;
  const { classifier, card } = await trainProductClassifier(
    data,
    DEFAULT_TRAIN_OPTIONS,
    (line) => process.stderr.write(`${line}\n`),
    undefined,
    undefined,
    { featureStore: benchFeatureStore() },
  );
  rmSync(BENCH_MODEL_DIR, { recursive: true, force: true });
  await classifier.save(BENCH_MODEL_DIR, { 'model-card': card });
  const totalSeconds = (Date.now() - started) / 1000;
  console.log(`bench:train  data ${dir}`);
  console.log(
    `  rows: ${card.rows.textTraining} text (linear models: ${card.rows.linearTraining}), ` +
      `${card.rows.imageTraining} images; backend ${card.backend}`,
  );
  console.log(`  load CSVs          ${loadSeconds.toFixed(1)} s`);
  console.log(
    `  text model         ${card.timings.textSeconds.toFixed(1)} s (${card.history.text.length} epochs)`,
  );
  console.log(
    `  images + image model ${card.timings.imageSeconds.toFixed(1)} s (${card.history.image.length} epochs)`,
  );
  const cpu = process.cpuUsage();
  console.log(`  total              ${totalSeconds.toFixed(1)} s   (target: under 120 s on 2 cores)`);
  console.log(
    `  CPU time           ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s, all threads (${cpus().length} cores; ` +
      `load average ${startLoad.toFixed(1)} at the start, ${loadavg()[0].toFixed(1)} at the end)`,
  );
  console.log(`  peak RSS           ${mib(process.resourceUsage().maxRSS * 1024)}`);
  console.log(`  model written to   ${BENCH_MODEL_DIR}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
