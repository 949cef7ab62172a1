import { resolve } from 'node:path';
import {
  crossValidate,
  DEFAULT_TRAIN_OPTIONS,
  evaluateClassifier,
  extractDatasetFeatures,
  imageFeatureSource,
  InThreadBackboneRunner,
  loadTrainingData,
  ProductClassifier,
} from '@app/ml';
import {
  configuredFeatureStore,
  numberOption,
  parseCommandLine,
  progress,
  requireOption,
  runCli,
  UsageError,
} from './cli-runner.util';

const USAGE = `Usage:
  npm run evaluate -- --model DIR --data DIR [--images DIR]
      scores a trained model on a labelled folder (extra_text_only.csv is never used for evaluation)
  npm run evaluate -- --data DIR --cv K [--seed S] [--images DIR] [--no-images]
      stratified K-fold cross-validation: trains K models, extra_text_only.csv added to every training fold
Prints one JSON object on stdout; progress goes to stderr.`;

runCli(USAGE, async () => {
  const args = parseCommandLine(USAGE, {
    model: { type: 'string' },
    data: { type: 'string' },
    images: { type: 'string' },
    cv: { type: 'string' },
    seed: { type: 'string' },
    'no-images': { type: 'boolean' },
  });
  const dataDir = resolve(requireOption(args.data, 'data', USAGE));
  if (args.model && args.cv) throw new UsageError(`give either --model or --cv, not both\n\n${USAGE}`);
  if (!args.model && !args.cv) throw new UsageError(`give --model DIR or --cv K\n\n${USAGE}`);
  const { data } = loadTrainingData(dataDir, args.images && resolve(args.images));

  if (args.model) {
    const classifier = await ProductClassifier.load(resolve(args.model));
    const source = classifier.imageSource;
    const images = source
      ? await extractDatasetFeatures([...data.products, ...data.imageOnly], source, progress, {
          backbones: new InThreadBackboneRunner(),
          store: configuredFeatureStore(),
        })
      : { source: '', features: new Map<string, Float32Array>(), unreadable: [] };
    const evaluation = await evaluateClassifier(classifier, data, images);
    classifier.dispose();
    process.stdout.write(`${JSON.stringify(evaluation)}\n`);
    return;
  }

  const k = numberOption(args.cv, 'cv', 5);
  if (!Number.isInteger(k) || k < 2) throw new UsageError('--cv must be a whole number of folds, at least 2');
  const options = {
    ...DEFAULT_TRAIN_OPTIONS,
    seed: numberOption(args.seed, 'seed', 0),
    withImages: !args['no-images'],
  };
  const images = options.withImages
    ? await extractDatasetFeatures(
        [...data.products, ...data.imageOnly],
        imageFeatureSource(options),
        progress,
        {
          backbones: new InThreadBackboneRunner(),
          store: configuredFeatureStore(),
        },
      )
    : { source: '', features: new Map<string, Float32Array>(), unreadable: [] };
  const result = await crossValidate(data, k, options, images, progress);
  process.stdout.write(`${JSON.stringify({ ...result.mean, ...result })}\n`);
});
