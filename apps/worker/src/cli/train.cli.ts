import { resolve } from 'node:path';
import { DEFAULT_TRAIN_OPTIONS, loadTrainingData, trainProductClassifier } from '@app/ml';
import { numberOption, parseCommandLine, progress, requireOption, runCli } from './cli-runner';

const USAGE = `Usage: npm run train -- --data DIR --out DIR [options]

Trains a product classifier on a Rakuten-layout folder and writes the model directory.
  --data DIR           folder with products.csv (+ extra_text_only.csv, image_only.csv) or an X_*.csv + Y_*.csv pair
  --out DIR            where to write the model (created if missing)
  --images DIR         image folder (default: DIR/images)
  --seed N             random seed (default ${DEFAULT_TRAIN_OPTIONS.seed})
  --no-images          train the text model only
  --image-weight W     weight of the image model in the fusion (default ${DEFAULT_TRAIN_OPTIONS.imageWeight})`;

runCli(USAGE, async () => {
  const args = parseCommandLine(USAGE, {
    data: { type: 'string' },
    out: { type: 'string' },
    images: { type: 'string' },
    seed: { type: 'string' },
    'no-images': { type: 'boolean' },
    'image-weight': { type: 'string' },
  });
  const dataDir = resolve(requireOption(args.data, 'data', USAGE));
  const outDir = resolve(requireOption(args.out, 'out', USAGE));
  const options = {
    ...DEFAULT_TRAIN_OPTIONS,
    seed: numberOption(args.seed, 'seed', DEFAULT_TRAIN_OPTIONS.seed),
    withImages: !args['no-images'],
    imageWeight: numberOption(args['image-weight'], 'image-weight', DEFAULT_TRAIN_OPTIONS.imageWeight),
  };
  const { data, report, layout } = loadTrainingData(dataDir, args.images && resolve(args.images));
  progress(`loaded ${layout} layout from ${dataDir}: ${JSON.stringify(report.files)}`);
  progress(
    `images: ${report.images.found} found, ${report.images.missing} missing of ${report.images.referenced} referenced`,
  );
  const { classifier, card } = await trainProductClassifier(data, options, progress);
  // Best validation weighted F1 of each network on its own held-out split (the linear models have no validation run).
  const best: Record<string, number> = {};
  for (const p of card.history.text) best[p.model] = Math.max(best[p.model] ?? 0, p.valWeightedF1);
  if (card.history.image.length) best.image = Math.max(...card.history.image.map((p) => p.valWeightedF1));
  const metrics = { validation_weighted_f1: best };
  const manifest = await classifier.save(outDir, {
    metrics,
    'model-card': { ...card, dataDir, layout, dataReport: report },
  });
  classifier.dispose();
  progress(`model written to ${outDir} (${Object.keys(manifest.components).join(' + ')})`);
  process.stdout.write(`${JSON.stringify({ model: outDir, ...metrics })}\n`);
});
