import 'reflect-metadata';
import { resolve } from 'node:path';
import { NestFactory } from '@nestjs/core';
import { AppConfig, ConfigValidationError } from '@app/config';
import { openDataSource } from '@app/database';
import {
  DEFAULT_TEXT_ENSEMBLE_OPTIONS,
  DEFAULT_TRAIN_OPTIONS,
  LINEAR_VIEWS,
  type LinearView,
  type TrainOptions,
} from '@app/ml';
import { ModelRegistry, ModelVersionNotFoundError } from '@app/registry';
import { trainModel, TrainingWorkflow, type TrainingProgress } from '@app/training';
import { CliTrainingModule } from './cli-training.module';
import {
  configuredStoreLocation,
  numberOption,
  parseCommandLine,
  progress,
  requireOption,
  runCli,
  UsageError,
} from './cli-runner.util';

function linearViews(value: string | undefined): LinearView[] {
  if (value === undefined) return DEFAULT_TEXT_ENSEMBLE_OPTIONS.linearViews;
  const views = value.split(',').filter((v) => v.trim() !== '');
  const unknown = views.filter((v) => !(v in LINEAR_VIEWS));
  if (unknown.length) {
    throw new UsageError(
      `--linear-views: unknown view ${unknown.join(', ')} (known: ${Object.keys(LINEAR_VIEWS).join(', ')})`,
    );
  }
  return views as LinearView[];
}

const USAGE = `Usage: npm run train -- --data DIR --out DIR [options]

Trains a product classifier on a Rakuten-layout folder and writes the model directory.
  --data DIR           folder with products.csv (+ extra_text_only.csv, image_only.csv) or an X_*.csv + Y_*.csv pair
  --out DIR            where to write the model (created if missing)
  --images DIR         image folder (default: DIR/images)
  --seed N             random seed (default ${DEFAULT_TRAIN_OPTIONS.seed})
  --no-images          train the text model only
  --image-features F   what the image model reads: backbone (the pretrained MobileNetV2 shipped in nsfwjs) or
                       handmade (colour, layout and edge descriptors: fast, far weaker) (default ${DEFAULT_TRAIN_OPTIONS.imageFeatures})
  --image-weight W     weight of the image model in the fusion (default ${DEFAULT_TRAIN_OPTIONS.imageWeight})
  --neural-models N    text networks in the ensemble (default ${DEFAULT_TEXT_ENSEMBLE_OPTIONS.neuralModels}); fewer: faster, less accurate
  --linear-views LIST  comma-separated linear text models: merged, blocked (default ${DEFAULT_TEXT_ENSEMBLE_OPTIONS.linearViews.join(',')})
  --register           also register the model in the configured registry (DATABASE_URL and S3_*, else SQLite and
                       artifacts under VAR_DIR) and print its version
  --parent VERSION     with --register: the version this model was retrained from (lineage)
  --promote            with --register: make the new version the production model (announced on REDIS_URL when
                       set, so that running replicas swap at once)`;

function imageFeatures(value: string | undefined): TrainOptions['imageFeatures'] {
  if (value === undefined) return DEFAULT_TRAIN_OPTIONS.imageFeatures;
  if (value !== 'backbone' && value !== 'handmade') {
    throw new UsageError(`--image-features: give backbone or handmade, not "${value}"`);
  }
  return value;
}

/**
 * Nest's TypeORM module retries a refused connection for about 30 s, which suits a server waiting for its database,
 * not a command: one plain attempt first, so that an unreachable database fails at once with the reason.
 */
async function checkDatabase(): Promise<void> {
  let config: AppConfig;
  try {
    config = AppConfig.fromEnvironment();
  } catch (error) {
    if (error instanceof ConfigValidationError) throw new UsageError(error.message);
    throw error;
  }
  const dataSource = await openDataSource(config).catch((error: unknown) => {
    throw new UsageError(`--register: cannot open the registry's database: ${(error as Error).message}`);
  });
  await dataSource.destroy();
}

/**
 * Opens the configured registry (CliTrainingModule) before training, so that a bad setting or parent fails in
 * seconds, not hours.
 */
async function openRegistry(parent: string | undefined) {
  await checkDatabase();
  const context = await NestFactory.createApplicationContext(CliTrainingModule, {
    logger: false,
    abortOnError: false,
  }).catch((error: unknown) => {
    if (error instanceof ConfigValidationError) throw new UsageError(error.message);
    throw error;
  });
  if (parent !== undefined) {
    await context
      .get(ModelRegistry)
      .get(parent)
      .catch(async (error: unknown) => {
        await context.close();
        if (error instanceof ModelVersionNotFoundError) throw new UsageError(`--parent: ${error.message}`);
        throw error;
      });
  }
  return { workflow: context.get(TrainingWorkflow), close: () => context.close() };
}

const report = (event: TrainingProgress) => progress(event.message);

runCli(USAGE, async () => {
  const args = parseCommandLine(USAGE, {
    data: { type: 'string' },
    out: { type: 'string' },
    images: { type: 'string' },
    seed: { type: 'string' },
    'no-images': { type: 'boolean' },
    'image-features': { type: 'string' },
    'image-weight': { type: 'string' },
    'neural-models': { type: 'string' },
    'linear-views': { type: 'string' },
    register: { type: 'boolean' },
    parent: { type: 'string' },
    promote: { type: 'boolean' },
  });
  const dataDir = resolve(requireOption(args.data, 'data', USAGE));
  const outDir = resolve(requireOption(args.out, 'out', USAGE));
  const options = {
    ...DEFAULT_TRAIN_OPTIONS,
    seed: numberOption(args.seed, 'seed', DEFAULT_TRAIN_OPTIONS.seed),
    withImages: !args['no-images'],
    imageFeatures: imageFeatures(args['image-features']),
    imageWeight: numberOption(args['image-weight'], 'image-weight', DEFAULT_TRAIN_OPTIONS.imageWeight),
    text: {
      neuralModels: numberOption(
        args['neural-models'],
        'neural-models',
        DEFAULT_TEXT_ENSEMBLE_OPTIONS.neuralModels,
      ),
      linearViews: linearViews(args['linear-views']),
    },
  };
  if (!Number.isInteger(options.text.neuralModels) || options.text.neuralModels < 0) {
    throw new UsageError('--neural-models must be a whole number, 0 or more');
  }
  if (options.text.neuralModels + options.text.linearViews.length === 0) {
    throw new UsageError(
      'the text ensemble needs at least one model: give --neural-models or --linear-views',
    );
  }
  if (!args.register && (args.parent !== undefined || args.promote)) {
    throw new UsageError(
      `--parent and --promote apply to the registered version: add --register\n\n${USAGE}`,
    );
  }
  const session = args.register ? await openRegistry(args.parent) : undefined;
  const step = {
    dataDir,
    ...(args.images && { imagesDir: resolve(args.images) }),
    options,
    featureStore: configuredStoreLocation(),
  };
  if (!session) {
    const { metrics } = await trainModel({ ...step, outDir }, report);
    process.stdout.write(`${JSON.stringify({ model: outDir, ...metrics })}\n`);
    return;
  }
  try {
    const { record, promotion, metrics } = await session.workflow.run({
      ...step,
      outDir,
      lineage: {
        trigger: 'cli',
        source: 'cli',
        createdBy: process.env.USER ?? 'cli',
        parentVersion: args.parent ?? null,
      },
      promote: args.promote ? { actor: 'cli', reason: 'npm run train -- --promote' } : undefined,
      progress: report,
    });
    process.stdout.write(
      `${JSON.stringify({ model: outDir, version: record.version, production: promotion?.production, ...metrics })}\n`,
    );
  } finally {
    await session.close();
  }
});
