/**
 * npm run bench:review: does the confidence the service gives mean what it says, and does automatic acceptance keep
 * its promise? On the shared Rakuten data, the gate's frozen evaluation split is set aside; a model is trained on the
 * rest exactly as the service trains one (which holds its own calibration slice out and fits the temperatures on it).
 * Then, on the evaluation split, which neither the models nor the thresholds ever saw:
 *
 * - Calibration: expected calibration error of the top probability before and after the temperatures, as served
 *   (text + photo where a product has both, the photo alone for image-only rows) and for text alone (what most
 *   requests send), with the reliability tables.
 * - Automation: at target precisions 0.90 / 0.95 / 0.98, the threshold each version derives from its calibration
 *   curve, the share of evaluation answers accepted at it and their precision: the promise kept or not.
 * - Labels well spent: labels chosen by the review queue's ranking against random ones, retrained and scored
 *   (bench/review-labels.bench.ts, which also runs alone: npm run bench:review-labels).
 *
 * The bench is a list of sections (SECTIONS): each runs on the shared context (data, split, trained models),
 * returns its figures for docs/bench/review.json, its lines for the console and a panel for docs/bench/review.svg.
 * A new section is one more entry.
 *
 * BENCH_SEEDS (0,1) training seeds; BENCH_SMOKE=1 quick models (one linear text model, no photos) to check the
 * bench itself; BENCH_FEATURE_CACHE moves the photo feature cache (var/bench/feature-cache).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  acceptanceThresholds,
  BackboneThreadPool,
  decide,
  DEFAULT_TRAIN_OPTIONS,
  expectedCalibrationError,
  extractDatasetFeatures,
  imageFeatureSource,
  loadTrainingData,
  MODALITIES,
  ProductClassifier,
  reliabilityTable,
  splitForEvaluation,
  trainProductClassifier,
  type DecodedItem,
  type EvaluationSplit,
  type Modality,
  type ModelCalibration,
  type ProductExample,
  type ReliabilityBin,
  type TrainOptions,
} from '@app/ml';
import { benchDataDir, benchFeatureStore } from './bench.util';
import { DEFAULT_LABELS_OPTIONS, labelsChart, labelsLines, labelsWellSpent } from './review-labels.bench';

const SMOKE = process.env.BENCH_SMOKE === '1';
const SEEDS = (process.env.BENCH_SEEDS ?? '0,1').split(',').map(Number);
const TARGETS = [0.9, 0.95, 0.98];
const OUT_DIR = resolve(__dirname, '..', 'docs', 'bench');

const started = performance.now();
const progress = (line: string): void =>
  console.error(`[bench:review ${((performance.now() - started) / 1000).toFixed(0)} s] ${line}`);

/** One trained model of the bench, scored on the evaluation split with and without its calibration. */
interface TrainedModel {
  seed: number;
  calibration: ModelCalibration;
  /** Per scope: each evaluation row's probabilities before and after calibration, its modality and label index. */
  scored: Record<Scope, ScoredRows>;
  classes: number[];
}

/** as-served: each row with what it has (text + photo, or the photo alone); text: the same products, text only. */
type Scope = 'as-served' | 'text';
const SCOPES: Scope[] = ['as-served', 'text'];

interface ScoredRows {
  raw: Float32Array;
  calibrated: Float32Array;
  modalities: Modality[];
  labels: number[];
}

interface BenchContext {
  dataDir: string;
  split: EvaluationSplit;
  models: TrainedModel[];
}

/** A section's figures, its console lines and its SVG panel (a <g> of PANEL_WIDTH × PANEL_HEIGHT). */
interface SectionResult {
  figures: unknown;
  lines: string[];
  panel: string;
}

interface Section {
  key: string;
  title: string;
  run(context: BenchContext): SectionResult | Promise<SectionResult>;
}

const PANEL_WIDTH = 900;
const PANEL_HEIGHT = 360;

// ---------------------------------------------------------------------------------------------- training and scoring

function trainOptions(seed: number): TrainOptions {
  return SMOKE
    ? {
        ...DEFAULT_TRAIN_OPTIONS,
        seed,
        withImages: false,
        text: { neuralModels: 0, linearViews: ['merged'] },
      }
    : { ...DEFAULT_TRAIN_OPTIONS, seed };
}

async function trainAndScore(
  split: EvaluationSplit,
  seed: number,
  backbones: BackboneThreadPool,
): Promise<TrainedModel> {
  const options = trainOptions(seed);
  const featureStore = benchFeatureStore();
  progress(
    `seed ${seed}: training on ${split.train.products.length} products (+ extra text, image-only rows)`,
  );
  const trained = await trainProductClassifier(split.train, options, progress, undefined, undefined, {
    backbones,
    featureStore,
  });
  const dir = mkdtempSync(join(tmpdir(), 'bench-review-'));
  try {
    await trained.classifier.save(dir, {});
    trained.classifier.dispose();
    const calibrated = await ProductClassifier.load(dir, { backbones });
    const raw = await ProductClassifier.load(dir, { backbones, calibrated: false });
    try {
      const rows = [...split.evaluation.products, ...split.evaluation.imageOnly];
      const features = options.withImages
        ? (
            await extractDatasetFeatures(
              rows.filter((row) => row.imagePath),
              imageFeatureSource(options),
              progress,
              { backbones, store: featureStore },
            )
          ).features
        : new Map<string, Float32Array>();
      const classes = [...calibrated.classes];
      const scored = {} as Record<Scope, ScoredRows>;
      for (const scope of SCOPES) {
        const items = decodedItems(rows, features, scope, calibrated.hasImageModel);
        const kept = items.filter((item) => item !== undefined);
        const keptRows = rows.filter((_, i) => items[i] !== undefined);
        scored[scope] = {
          raw: await raw.score(kept.map((item) => item!.decoded)),
          calibrated: await calibrated.score(kept.map((item) => item!.decoded)),
          modalities: kept.map((item) => item!.modality),
          labels: keptRows.map((row) => classes.indexOf(row.label!)),
        };
      }
      return { seed, calibration: calibrated.calibration!, scored, classes };
    } finally {
      calibrated.dispose();
      raw.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What the model is given for each evaluation row in a scope; undefined for a row the scope leaves out. */
function decodedItems(
  rows: ProductExample[],
  features: Map<string, Float32Array>,
  scope: Scope,
  withImages: boolean,
): ({ decoded: DecodedItem; modality: Modality } | undefined)[] {
  return rows.map((row) => {
    const hasText = row.designation.trim() !== '' || row.description.trim() !== '';
    const photo = withImages && row.imagePath ? features.get(row.imagePath) : undefined;
    const text = hasText ? { designation: row.designation, description: row.description } : undefined;
    if (scope === 'text') return text ? { decoded: { text }, modality: 'text' } : undefined;
    if (text && photo) return { decoded: { text, imageFeatures: photo }, modality: 'text+image' };
    if (text) return { decoded: { text }, modality: 'text' };
    if (photo) return { decoded: { imageFeatures: photo }, modality: 'image' };
    return undefined;
  });
}

/** Each row's top probability and whether it is right. */
function tops(probs: Float32Array, labels: number[], classes: number) {
  const confidences: number[] = [];
  const correct: boolean[] = [];
  labels.forEach((label, r) => {
    let best = 0;
    for (let k = 1; k < classes; k++) if (probs[r * classes + k] > probs[r * classes + best]) best = k;
    confidences.push(probs[r * classes + best]);
    correct.push(best === label);
  });
  return { confidences, correct };
}

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
const spread = (values: number[]) =>
  values.length < 2
    ? 0
    : Math.sqrt(values.reduce((s, v) => s + (v - mean(values)) ** 2, 0) / (values.length - 1));
const f3 = (value: number) => value.toFixed(3);
const pct = (value: number) => `${(100 * value).toFixed(1)} %`;

// ---------------------------------------------------------------------------------------------------------- sections

const calibrationSection: Section = {
  key: 'calibration',
  title: 'Calibration: expected calibration error on the evaluation split',
  run({ models }) {
    const figures = SCOPES.map((scope) => {
      const perSeed = models.map((model) => {
        const { raw, calibrated, labels } = model.scored[scope];
        const before = tops(raw, labels, model.classes.length);
        const after = tops(calibrated, labels, model.classes.length);
        const tableBefore = reliabilityTable(before.confidences, before.correct);
        const tableAfter = reliabilityTable(after.confidences, after.correct);
        return {
          seed: model.seed,
          n: labels.length,
          accuracy: mean(after.correct.map(Number)),
          eceBefore: expectedCalibrationError(tableBefore),
          eceAfter: expectedCalibrationError(tableAfter),
          temperatures: Object.fromEntries(
            MODALITIES.filter((m) => model.calibration.modalities[m]).map((m) => [
              m,
              model.calibration.modalities[m]!.temperature,
            ]),
          ),
          reliabilityBefore: tableBefore,
          reliabilityAfter: tableAfter,
        };
      });
      return {
        scope,
        eceBefore: mean(perSeed.map((s) => s.eceBefore)),
        eceBeforeSd: spread(perSeed.map((s) => s.eceBefore)),
        eceAfter: mean(perSeed.map((s) => s.eceAfter)),
        eceAfterSd: spread(perSeed.map((s) => s.eceAfter)),
        perSeed,
      };
    });
    const lines = figures.map(
      (f) =>
        `${f.scope.padEnd(9)} ECE before ${f3(f.eceBefore)} ± ${f3(f.eceBeforeSd)}, after ${f3(f.eceAfter)} ± ` +
        `${f3(f.eceAfterSd)} (n ${f.perSeed[0].n}, temperatures ${f.perSeed
          .map((s) =>
            Object.entries(s.temperatures)
              .map(([m, t]) => `${m} ${t.toFixed(2)}`)
              .join(' / '),
          )
          .join('; ')})`,
    );
    const first = figures.find((f) => f.scope === 'as-served')!.perSeed[0];
    return {
      figures,
      lines,
      panel: reliabilityPanel(first.reliabilityBefore, first.reliabilityAfter, figures),
    };
  },
};

const automationSection: Section = {
  key: 'automation',
  title: 'Automation: share accepted and precision reached at each target, on the evaluation split',
  run({ models }) {
    const figures = SCOPES.flatMap((scope) =>
      TARGETS.map((target) => {
        const perSeed = models.map((model) => {
          const thresholds = acceptanceThresholds(model.calibration, target);
          const { calibrated, labels, modalities } = model.scored[scope];
          const { confidences, correct } = tops(calibrated, labels, model.classes.length);
          const accepted = confidences
            .map((confidence, i) => decide(confidence, thresholds[modalities[i]]) === 'accept')
            .map((yes, i) => (yes ? i : -1))
            .filter((i) => i >= 0);
          const precision = accepted.length ? mean(accepted.map((i) => Number(correct[i]))) : null;
          return {
            seed: model.seed,
            thresholds,
            n: labels.length,
            accepted: accepted.length,
            share: accepted.length / labels.length,
            precision,
            kept: precision === null || precision >= target,
          };
        });
        const precisions = perSeed.map((s) => s.precision).filter((p): p is number => p !== null);
        return {
          scope,
          target,
          share: mean(perSeed.map((s) => s.share)),
          precision: precisions.length ? mean(precisions) : null,
          keptInSeeds: perSeed.filter((s) => s.kept).length,
          seeds: perSeed.length,
          perSeed,
        };
      }),
    );
    const lines = figures.map(
      (f) =>
        `${f.scope.padEnd(9)} target ${f3(f.target)}: accepted ${pct(f.share)}, precision ` +
        `${f.precision === null ? 'n/a' : f3(f.precision)}, promise kept in ${f.keptInSeeds}/${f.seeds} seeds ` +
        `(thresholds ${f.perSeed
          .map((s) =>
            Object.entries(s.thresholds)
              .map(([m, t]) => `${m} ${t.toFixed(2)}`)
              .join(' / '),
          )
          .join('; ')})`,
    );
    return { figures, lines, panel: automationPanel(figures) };
  },
};

/** The bench's sections, in order; another one is added here. */
/** Labels well spent: the review queue's ranking against random picks (bench/review-labels.bench.ts, its own models). */
const labelsSection: Section = {
  key: 'labelsWellSpent',
  title: 'Labels well spent: labels chosen by the review queue against random ones',
  async run() {
    const result = await labelsWellSpent({
      ...DEFAULT_LABELS_OPTIONS,
      dataDir: benchDataDir(),
      ...(SMOKE && { seeds: [1], budgets: [100] }),
      log: progress,
    });
    return { figures: result, lines: labelsLines(result), panel: labelsChart(result) };
  },
};

const SECTIONS: Section[] = [calibrationSection, automationSection, labelsSection];

// --------------------------------------------------------------------------------------------------------- charts

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;');

function reliabilityPanel(
  before: ReliabilityBin[],
  after: ReliabilityBin[],
  figures: { scope: string; eceBefore: number; eceAfter: number }[],
): string {
  const size = 280;
  const x = (v: number) => 60 + v * size;
  const y = (v: number) => 40 + (1 - v) * size;
  const dots = (bins: ReliabilityBin[], colour: string) =>
    bins
      .map(
        (b) =>
          `<circle cx="${x(b.meanConfidence).toFixed(1)}" cy="${y(b.accuracy).toFixed(1)}" r="${Math.min(12, 3 + Math.sqrt(b.count) / 2).toFixed(1)}" fill="${colour}" fill-opacity="0.6"/>`,
      )
      .join('');
  const line = (bins: ReliabilityBin[], colour: string) =>
    `<polyline fill="none" stroke="${colour}" stroke-width="2" points="${bins.map((b) => `${x(b.meanConfidence).toFixed(1)},${y(b.accuracy).toFixed(1)}`).join(' ')}"/>`;
  const ticks = [0, 0.2, 0.4, 0.6, 0.8, 1]
    .map(
      (t) =>
        `<text x="${x(t)}" y="${y(0) + 16}" font-size="11" text-anchor="middle">${t}</text>` +
        `<text x="${x(0) - 8}" y="${y(t) + 4}" font-size="11" text-anchor="end">${t}</text>`,
    )
    .join('');
  const legend = figures
    .map(
      (f, i) =>
        `<text x="420" y="${110 + i * 22}" font-size="13">${escape(f.scope)}: ECE ${f3(f.eceBefore)} → ${f3(f.eceAfter)}</text>`,
    )
    .join('');
  return (
    `<text x="20" y="22" font-size="15" font-weight="bold">Reliability on the evaluation split (as served, first seed)</text>` +
    `<rect x="${x(0)}" y="${y(1)}" width="${size}" height="${size}" fill="none" stroke="#999"/>` +
    `<line x1="${x(0)}" y1="${y(0)}" x2="${x(1)}" y2="${y(1)}" stroke="#999" stroke-dasharray="4 4"/>` +
    ticks +
    line(before, '#d62728') +
    dots(before, '#d62728') +
    line(after, '#1f77b4') +
    dots(after, '#1f77b4') +
    `<text x="${x(0.5)}" y="${y(0) + 32}" font-size="12" text-anchor="middle">mean top probability in the bin</text>` +
    `<text x="420" y="60" font-size="13" fill="#d62728">● before calibration (raw model probabilities)</text>` +
    `<text x="420" y="82" font-size="13" fill="#1f77b4">● after (temperature per modality, fitted on the calibration slice)</text>` +
    legend +
    `<text x="420" y="${110 + figures.length * 22 + 10}" font-size="12" fill="#555">y: accuracy in the bin; dot area ∝ rows; diagonal: perfect</text>`
  );
}

const AUTOMATION_TITLE = 'Automatic acceptance on the evaluation split, at each target precision';
const AUTOMATION_LEGEND =
  'blue: share of answers accepted; green: precision reached, promise kept in every seed (red: not)';

function automationPanel(
  figures: {
    scope: string;
    target: number;
    share: number;
    precision: number | null;
    keptInSeeds: number;
    seeds: number;
  }[],
): string {
  const left = 60;
  const bottom = 320;
  const height = 260;
  const group = 130;
  const y = (v: number) => bottom - v * height;
  const bars = figures
    .map((f, i) => {
      const x0 = left + i * group + (f.scope === 'text' ? 40 : 0);
      const precision = f.precision ?? 0;
      return (
        `<rect x="${x0}" y="${y(f.share).toFixed(1)}" width="40" height="${(f.share * height).toFixed(1)}" fill="#1f77b4"/>` +
        `<rect x="${x0 + 44}" y="${y(precision).toFixed(1)}" width="40" height="${(precision * height).toFixed(1)}" fill="${f.keptInSeeds === f.seeds ? '#2ca02c' : '#d62728'}"/>` +
        `<line x1="${x0 - 4}" x2="${x0 + 88}" y1="${y(f.target).toFixed(1)}" y2="${y(f.target).toFixed(1)}" stroke="#000" stroke-dasharray="3 2"/>` +
        `<text x="${x0 + 42}" y="${bottom + 16}" font-size="11" text-anchor="middle">${escape(f.scope)} ${f.target.toFixed(2)}</text>` +
        `<text x="${x0 + 20}" y="${(y(f.share) - 4).toFixed(1)}" font-size="10" text-anchor="middle">${(100 * f.share).toFixed(0)}%</text>` +
        `<text x="${x0 + 64}" y="${(y(precision) - 4).toFixed(1)}" font-size="10" text-anchor="middle">${f.precision === null ? 'n/a' : f.precision.toFixed(3)}</text>`
      );
    })
    .join('');
  return (
    `<text x="20" y="22" font-size="15" font-weight="bold">${AUTOMATION_TITLE}</text>` +
    `<text x="20" y="40" font-size="12">${AUTOMATION_LEGEND}</text>` +
    `<line x1="${left - 10}" x2="${left + figures.length * group}" y1="${bottom}" y2="${bottom}" stroke="#999"/>` +
    bars +
    `<text x="${left}" y="${bottom + 34}" font-size="12" fill="#555">dashed: the target precision; scope "as-served" uses text + photo where a product has both, "text" the same products by text alone</text>`
  );
}

function svg(sections: { title: string; result: SectionResult }[]): string {
  const body = sections
    .map((s, i) => `<g transform="translate(0 ${i * (PANEL_HEIGHT + 20)})">${s.result.panel}</g>`)
    .join('');
  const height = sections.length * (PANEL_HEIGHT + 20);
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${PANEL_WIDTH}" height="${height}" font-family="sans-serif">` +
    `<rect width="100%" height="100%" fill="#fff"/>${body}</svg>\n`
  );
}

// ------------------------------------------------------------------------------------------------------------ main

async function main(): Promise<void> {
  const dataDir = benchDataDir();
  const { data } = loadTrainingData(dataDir);
  const split = splitForEvaluation(data);
  progress(
    `evaluation split: ${split.evaluation.products.length} products and ${split.evaluation.imageOnly.length} ` +
      `image-only rows, never trained on and never used to choose a threshold`,
  );
  const backbones = new BackboneThreadPool(1);
  const models: TrainedModel[] = [];
  try {
    for (const seed of SEEDS) {
      models.push(await trainAndScore(split, seed, backbones));
      // Written after every seed, so that a long run that is stopped still leaves its figures so far.
      await report({ dataDir, split, models });
    }
  } finally {
    backbones.dispose();
  }
}

async function report(context: BenchContext): Promise<void> {
  const { dataDir, split, models } = context;
  const results: { key: string; title: string; result: SectionResult }[] = [];
  for (const section of SECTIONS) {
    const result = await section.run(context);
    results.push({ key: section.key, title: section.title, result });
    console.error(`\n${section.title} (seeds ${models.map((m) => m.seed).join(', ')})`);
    for (const line of result.lines) console.error(`  ${line}`);
  }
  const summary: Record<string, unknown> = {
    data: dataDir,
    seeds: models.map((m) => m.seed),
    smoke: SMOKE,
    evaluation: { products: split.evaluation.products.length, imageOnly: split.evaluation.imageOnly.length },
    seconds: Math.round((performance.now() - started) / 1000),
    ...Object.fromEntries(results.map((r) => [r.key, r.result.figures])),
  };
  if (!SMOKE) {
    mkdirSync(OUT_DIR, { recursive: true });
    writeFileSync(join(OUT_DIR, 'review.json'), `${JSON.stringify(summary, null, 2)}\n`);
    writeFileSync(join(OUT_DIR, 'review.svg'), svg(results));
    progress(`wrote ${join(OUT_DIR, 'review.json')} and review.svg`);
  }
  console.log(
    JSON.stringify({
      seeds: summary.seeds,
      calibration: (summary.calibration as { scope: string; eceBefore: number; eceAfter: number }[]).map(
        (f) => ({
          scope: f.scope,
          eceBefore: f.eceBefore,
          eceAfter: f.eceAfter,
        }),
      ),
      automation: (
        summary.automation as {
          scope: string;
          target: number;
          share: number;
          precision: number | null;
          keptInSeeds: number;
        }[]
      ).map(({ scope, target, share, precision, keptInSeeds }) => ({
        scope,
        target,
        share,
        precision,
        keptInSeeds,
      })),
    }),
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
