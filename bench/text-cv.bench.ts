/**
 * 5-fold stratified cross-validation of the text classifier on products.csv (seed 0). extra_text_only.csv rows join
 * every training fold but are never evaluated (they are a biased sample of hard rows).
 *
 *   npm run bench:text -- [folds, e.g. 0,1] [options JSON]
 */
import {
  argmaxRows,
  evaluateClassification,
  initBackend,
  loadRakutenDataset,
  rakutenDataDir,
  stratifiedKFold,
  TextClassifier,
  type ProductExample,
  type TextClassifierOptions,
} from '@app/ml';
import { percentile } from './bench.util';

async function main(): Promise<void> {
  const dir = rakutenDataDir();
  if (!dir) throw new Error('Rakuten data folder not found: set RAKUTEN_DATA_DIR');
  console.log(`backend: ${await initBackend()}`);
  const { products, extraText: extra } = loadRakutenDataset(dir);
  const codes = [...new Set(products.map((e) => e.label!))].sort((a, b) => a - b);
  const classOf = new Map(codes.map((code, i) => [code, i]));
  const labelOf = (e: ProductExample) => classOf.get(e.label!)!;
  const text = (e: ProductExample) => ({ designation: e.designation, description: e.description });
  const labels = products.map(labelOf);
  const classes = codes.map((_, i) => i);

  const folds = stratifiedKFold(labels, 5, 0);
  const only = process.argv[2] ? process.argv[2].split(',').map(Number) : folds.map((_, i) => i);
  const options: Partial<TextClassifierOptions> = process.argv[3] ? JSON.parse(process.argv[3]) : {};
  console.log(`options: ${JSON.stringify(options)}`);
  const results: { weighted: number; macro: number; accuracy: number; seconds: number }[] = [];

  for (const f of only) {
    const { train, test } = folds[f];
    const started = Date.now();
    const model = await TextClassifier.train(
      [...train.map((i) => text(products[i])), ...extra.map(text)],
      [...train.map((i) => labels[i]), ...extra.map(labelOf)],
      codes.length,
      { ...options, seed: 0 },
      (p) =>
        console.log(
          `  fold ${f} epoch ${p.epoch}: loss ${p.loss.toFixed(4)}, val wF1 ${p.valWeightedF1.toFixed(4)}, ${p.seconds.toFixed(1)} s`,
        ),
    );
    const seconds = (Date.now() - started) / 1000;
    const testTexts = test.map((i) => text(products[i]));
    const predicted = argmaxRows(model.predictProba(testTexts), codes.length);
    const report = evaluateClassification(
      test.map((i) => labels[i]),
      predicted,
      classes,
    );
    results.push({
      weighted: report.weighted_f1,
      macro: report.macro_f1,
      accuracy: report.accuracy,
      seconds,
    });
    console.log(
      `fold ${f}: weighted F1 ${report.weighted_f1.toFixed(4)}, macro F1 ${report.macro_f1.toFixed(4)}, ` +
        `accuracy ${report.accuracy.toFixed(4)}, training ${seconds.toFixed(1)} s`,
    );

    const latencies = testTexts.slice(0, 500).map((t) => {
      const t0 = process.hrtime.bigint();
      model.predictProba([t]);
      return Number(process.hrtime.bigint() - t0) / 1e6;
    });
    latencies.sort((a, b) => a - b);
    const t0 = Date.now();
    for (let s = 0; s < testTexts.length; s += 256) model.predictProba(testTexts.slice(s, s + 256));
    const perSecond = testTexts.length / ((Date.now() - t0) / 1000);
    console.log(
      `  inference: single item p50 ${percentile(latencies, 50).toFixed(2)} ms, p99 ${percentile(latencies, 99).toFixed(2)} ms; ` +
        `batches of 256: ${Math.round(perSecond)} items/s`,
    );
  }

  const mean = (pick: (r: (typeof results)[number]) => number) =>
    results.reduce((s, r) => s + pick(r), 0) / results.length;
  console.log(
    `mean over ${results.length} folds: weighted F1 ${mean((r) => r.weighted).toFixed(4)}, macro F1 ${mean((r) => r.macro).toFixed(4)}, ` +
      `accuracy ${mean((r) => r.accuracy).toFixed(4)}, training ${mean((r) => r.seconds).toFixed(1)} s/fold`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
