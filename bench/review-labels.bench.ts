/**
 * bench:review, "labels well spent": does the review queue's ranking buy more F1 per label than random labels?
 *
 * Per seed: a fixed evaluation split (20 % of products.csv, stratified, the same for every seed) is never trained
 * on. Of the rest, a first model is trained on a random 15 %; the other 85 % is the pool of unlabelled listings. For
 * each budget (100, 200, 400, 800 labels) the pool listings are chosen two ways: by the queue's ranking (smallest
 * margin between the first model's top two probabilities first, oldest first among equals, one listing per
 * near-duplicate title: the queue's own functions) and uniformly at random. The model is retrained on the first
 * 15 % plus the chosen listings with their true labels, and scored on the evaluation split. Duplicates that the
 * queue would label along with a chosen listing are not added: the comparison counts only labels a reviewer gave.
 *
 *   npm run bench:review -- [--seeds 3] [--budgets 100,200,400,800] [--out docs/bench]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  argmaxRows,
  evaluateClassification,
  initBackend,
  loadRakutenDataset,
  rakutenDataDir,
  SeededRandom,
  stratifiedKFold,
  TextClassifier,
  type ProductExample,
  type TextClassifierOptions,
} from '@app/ml';
import { titleKey, uncertaintyMargin } from '@app/review';

export interface LabelsWellSpentOptions {
  /** The Rakuten data folder (default: rakutenDataDir()). */
  dataDir?: string;
  seeds: number[];
  budgets: number[];
  /** Share of the non-evaluation products the first model trains on. */
  initialShare: number;
  model: Partial<TextClassifierOptions>;
  log?: (line: string) => void;
}

export interface BudgetResult {
  budget: number;
  queueF1: number;
  randomF1: number;
  /** Weighted F1 gained over the first model, per 100 labels. */
  queueGainPer100: number;
  randomGainPer100: number;
}

export interface SeedResult {
  seed: number;
  initial: number;
  pool: number;
  evaluation: number;
  firstModelF1: number;
  budgets: BudgetResult[];
}

export interface LabelsWellSpent {
  seeds: SeedResult[];
  /** Per budget, means over seeds, and how many times more F1 per label the queue's labels bought. */
  summary: {
    budget: number;
    firstModelF1: number;
    queueF1: number;
    randomF1: number;
    queueGain: number;
    randomGain: number;
    ratio: number;
    queueWins: number;
  }[];
}

export const DEFAULT_LABELS_OPTIONS: LabelsWellSpentOptions = {
  seeds: [1, 2, 3],
  budgets: [100, 200, 400, 800],
  initialShare: 0.15,
  // Shorter than a production training: the comparison needs the same recipe on both sides, not the best model.
  model: { epochs: 8, patience: 2 },
};

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

export async function labelsWellSpent(options: LabelsWellSpentOptions): Promise<LabelsWellSpent> {
  const log = options.log ?? (() => undefined);
  const dir = options.dataDir ?? rakutenDataDir();
  if (!dir) throw new Error('Rakuten data folder not found: set RAKUTEN_DATA_DIR');
  const { products } = loadRakutenDataset(dir);
  const codes = [...new Set(products.map((e) => e.label!))].sort((a, b) => a - b);
  const classOf = new Map(codes.map((code, i) => [code, i]));
  const labels = products.map((e) => classOf.get(e.label!)!);
  const classes = codes.map((_, i) => i);
  const text = (e: ProductExample) => ({ designation: e.designation, description: e.description });
  const evaluation = stratifiedKFold(labels, 5, 0)[0].test;
  const held = new Set(evaluation);
  const rest = products.map((_, i) => i).filter((i) => !held.has(i));

  const train = async (rows: number[], seed: number) =>
    TextClassifier.train(
      rows.map((i) => text(products[i])),
      rows.map((i) => labels[i]),
      codes.length,
      { ...options.model, seed },
    );
  const score = (model: TextClassifier) =>
    evaluateClassification(
      evaluation.map((i) => labels[i]),
      argmaxRows(model.predictProba(evaluation.map((i) => text(products[i]))), codes.length),
      classes,
    ).weighted_f1;

  const seeds: SeedResult[] = [];
  for (const seed of options.seeds) {
    const shuffled = new SeededRandom(seed).shuffle([...rest]);
    const cut = Math.round(shuffled.length * options.initialShare);
    const initial = shuffled.slice(0, cut);
    // The pool in arrival order: its position stands for when the listing was predicted.
    const pool = shuffled.slice(cut);
    const first = await train(initial, seed);
    const firstModelF1 = score(first);
    log(`seed ${seed}: first model on ${initial.length} products, weighted F1 ${firstModelF1.toFixed(4)}`);

    const probabilities = first.predictProba(pool.map((i) => text(products[i])));
    const ranked = pool
      .map((row, position) => {
        const p = probabilities.subarray(position * codes.length, (position + 1) * codes.length);
        const top = [...p].map((probability, prdtypecode) => ({ prdtypecode, probability }));
        return {
          row,
          position,
          margin: uncertaintyMargin(top),
          key: titleKey(products[row].designation, String(row)),
        };
      })
      .sort((a, b) => a.margin - b.margin || a.position - b.position);
    const queueOrder: number[] = [];
    const seenKeys = new Set<string>();
    for (const entry of ranked) {
      if (seenKeys.has(entry.key)) continue;
      seenKeys.add(entry.key);
      queueOrder.push(entry.row);
    }
    const randomOrder = new SeededRandom(seed * 7919 + 1).shuffle([...pool]);

    const budgets: BudgetResult[] = [];
    for (const budget of options.budgets) {
      const queueF1 = score(await train([...initial, ...queueOrder.slice(0, budget)], seed));
      const randomF1 = score(await train([...initial, ...randomOrder.slice(0, budget)], seed));
      const result = {
        budget,
        queueF1,
        randomF1,
        queueGainPer100: ((queueF1 - firstModelF1) / budget) * 100,
        randomGainPer100: ((randomF1 - firstModelF1) / budget) * 100,
      };
      budgets.push(result);
      log(
        `  ${budget} labels: queue ${queueF1.toFixed(4)} (+${(queueF1 - firstModelF1).toFixed(4)}), ` +
          `random ${randomF1.toFixed(4)} (+${(randomF1 - firstModelF1).toFixed(4)})`,
      );
    }
    seeds.push({
      seed,
      initial: initial.length,
      pool: pool.length,
      evaluation: evaluation.length,
      firstModelF1,
      budgets,
    });
  }

  const summary = options.budgets.map((budget, b) => {
    const firstModelF1 = mean(seeds.map((s) => s.firstModelF1));
    const queueF1 = mean(seeds.map((s) => s.budgets[b].queueF1));
    const randomF1 = mean(seeds.map((s) => s.budgets[b].randomF1));
    return {
      budget,
      firstModelF1,
      queueF1,
      randomF1,
      queueGain: queueF1 - firstModelF1,
      randomGain: randomF1 - firstModelF1,
      ratio: (queueF1 - firstModelF1) / (randomF1 - firstModelF1),
      queueWins: seeds.filter((s) => s.budgets[b].queueF1 > s.budgets[b].randomF1).length,
    };
  });
  return { seeds, summary };
}

/** One console line per budget: both F1s, their gains and how many times more the queue's labels bought. */
export function labelsLines(result: LabelsWellSpent): string[] {
  return result.summary.map(
    (s) =>
      `${String(s.budget).padStart(4)} labels: queue ${s.queueF1.toFixed(4)} (+${s.queueGain.toFixed(4)}), ` +
      `random ${s.randomF1.toFixed(4)} (+${s.randomGain.toFixed(4)}); the queue's labels bought ` +
      `${s.ratio.toFixed(2)}× the F1 of random ones; queue ahead in ${s.queueWins}/${result.seeds.length} seeds`,
  );
}

/** Weighted F1 against labels bought, queue and random, mean over seeds. */
export function labelsChart(result: LabelsWellSpent): string {
  const w = 640;
  const h = 360;
  const pad = { left: 60, right: 20, top: 40, bottom: 50 };
  const budgets = [0, ...result.summary.map((s) => s.budget)];
  const start = result.summary[0].firstModelF1;
  const queue = [start, ...result.summary.map((s) => s.queueF1)];
  const random = [start, ...result.summary.map((s) => s.randomF1)];
  const lo = Math.floor(Math.min(...queue, ...random) * 50) / 50;
  const hi = Math.ceil(Math.max(...queue, ...random) * 50) / 50;
  const x = (b: number) => pad.left + (b / budgets[budgets.length - 1]) * (w - pad.left - pad.right);
  const y = (f: number) => h - pad.bottom - ((f - lo) / (hi - lo || 1)) * (h - pad.top - pad.bottom);
  const line = (values: number[], color: string) =>
    `<polyline fill="none" stroke="${color}" stroke-width="2.5" points="${values
      .map((v, i) => `${x(budgets[i]).toFixed(1)},${y(v).toFixed(1)}`)
      .join(' ')}"/>` +
    values
      .map(
        (v, i) =>
          `<circle cx="${x(budgets[i]).toFixed(1)}" cy="${y(v).toFixed(1)}" r="3.5" fill="${color}"/>`,
      )
      .join('');
  const ticks = [];
  for (let f = lo; f <= hi + 1e-9; f += (hi - lo) / 4) {
    ticks.push(
      `<line x1="${pad.left}" x2="${w - pad.right}" y1="${y(f).toFixed(1)}" y2="${y(f).toFixed(1)}" stroke="#e3e6ea"/>` +
        `<text x="${pad.left - 8}" y="${(y(f) + 4).toFixed(1)}" text-anchor="end" font-size="11">${f.toFixed(3)}</text>`,
    );
  }
  const xTicks = budgets.map(
    (b) =>
      `<text x="${x(b).toFixed(1)}" y="${h - pad.bottom + 18}" text-anchor="middle" font-size="11">${b}</text>`,
  );
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif">
<rect width="100%" height="100%" fill="#fff"/>
<text x="${pad.left}" y="22" font-size="14" font-weight="bold">Labels well spent: weighted F1 after retraining (mean of ${result.seeds.length} seeds)</text>
${ticks.join('\n')}
${xTicks.join('\n')}
<text x="${(w / 2).toFixed(0)}" y="${h - 12}" text-anchor="middle" font-size="12">labels bought</text>
${line(random, '#9aa3ad')}
${line(queue, '#1f5fbf')}
<text x="${w - pad.right - 150}" y="${h - pad.bottom - 40}" font-size="12" fill="#1f5fbf">● review queue ranking</text>
<text x="${w - pad.right - 150}" y="${h - pad.bottom - 22}" font-size="12" fill="#6b7480">● random</text>
</svg>
`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { seeds: { type: 'string' }, budgets: { type: 'string' }, out: { type: 'string' } },
  });
  const options: LabelsWellSpentOptions = {
    ...DEFAULT_LABELS_OPTIONS,
    ...(values.seeds && { seeds: Array.from({ length: Number(values.seeds) }, (_, i) => i + 1) }),
    ...(values.budgets && { budgets: values.budgets.split(',').map(Number) }),
    log: (line) => console.error(line),
  };
  console.error(`backend: ${await initBackend()}`);
  const result = await labelsWellSpent(options);
  console.log('Labels well spent (weighted F1 on the evaluation split, mean over seeds):');
  for (const line of labelsLines(result)) console.log(`  ${line}`);
  const out = resolve(values.out ?? 'docs/bench');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'review-labels.json'), `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(join(out, 'review-labels.svg'), labelsChart(result));
  console.log(`wrote ${join(out, 'review-labels.json')} and review-labels.svg`);
}

if (require.main === module) {
  main().catch((error: Error) => {
    console.error(error.stack ?? error.message);
    process.exitCode = 1;
  });
}
