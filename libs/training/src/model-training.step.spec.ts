import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTrainingData, splitForEvaluation } from '@app/ml';
import { FIXTURE_CLASSES, fixtureJpeg, writeFixtureDataset } from '@app/ml/testing';
import { DEFAULT_TRAIN_OPTIONS, type TrainOptions } from '@app/ml';
import { trainModel } from './model-training.step';
import type { FeedbackFile, FeedbackRow } from './training-feedback.util';
import type { ModelTrainingInput, TrainedModel } from './training.types';

/** Small, fast models: the spec is about which rows train and what is scored, not accuracy. */
const FAST: TrainOptions = {
  ...DEFAULT_TRAIN_OPTIONS,
  withImages: false,
  text: { neuralModels: 0, linearViews: ['merged'] },
};
const LENIENT = { tolerance: 1, floor: 0, maxClassDrop: 1, minClassSupport: 1 };
/** A class the base set does not have: a model knows it only if it trained on a label of it. */
const NEW_CLASS = 40;

describe('trainModel with labelled predictions', () => {
  let root: string;
  let dataDir: string;
  let baseline: TrainedModel;
  let baseCard: ModelCardRows;
  let evaluationTitle: string;
  let photo: string;

  interface ModelCardRows {
    rows: { products: number; imageOnly: number };
    classes: number;
    feedback?: unknown;
    evaluationSplit?: unknown;
  }
  const card = (dir: string) =>
    JSON.parse(readFileSync(join(dir, 'model-card.json'), 'utf8')) as ModelCardRows;

  const train = (
    name: string,
    extra: { feedback?: ModelTrainingInput['feedback']; productionDir?: string } = {},
  ) =>
    trainModel({
      dataDir,
      outDir: join(root, name),
      options: FAST,
      gate: { rules: LENIENT, ...(extra.productionDir && { productionDir: extra.productionDir }) },
      ...(extra.feedback && { feedback: extra.feedback }),
    });

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'model-training-step-'));
    dataDir = join(root, 'data');
    await writeFixtureDataset(dataDir);
    // The fixture's evaluation side has no text rows: a few more titles put some there, to have twins to find.
    const extra = Object.entries(FIXTURE_CLASSES).flatMap(([code, { words }], c) =>
      Array.from({ length: 10 }, (_, i) => {
        const id = 9000 + c * 10 + i;
        return `${id},${id},${words[i % 5]} ${words[(i + 3) % 5]} gamme ${'abcdefghij'[i]}${'klm'[c]},,${code},0,`;
      }),
    );
    appendFileSync(join(dataDir, 'products.csv'), `${extra.join('\n')}\n`);
    const split = splitForEvaluation(loadTrainingData(dataDir).data);
    expect(split.evaluation.products.length).toBeGreaterThan(0);
    evaluationTitle = split.evaluation.products[0].designation;
    photo = join(root, 'photo.jpg');
    writeFileSync(photo, await fixtureJpeg(FIXTURE_CLASSES[2583].colour));

    baseline = await train('baseline');
    baseCard = card(join(root, 'baseline'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  /**
   * 23 labels, oldest first: 16 of the fixture's classes under new titles, one twin of an evaluation row, one
   * photo without text, one with neither text nor photo (skipped), then the 4 newest, of a class the base set lacks.
   */
  function feedbackFile(): { path: string; rows: FeedbackRow[] } {
    const at = (minute: number) => new Date(Date.UTC(2026, 10, 28, 9, minute)).toISOString();
    const codes = Object.keys(FIXTURE_CLASSES).map(Number);
    const rows: FeedbackRow[] = [
      ...Array.from({ length: 16 }, (_, i) => {
        const code = codes[i % 3];
        const { words } = FIXTURE_CLASSES[code];
        return row(
          `p-${i}`,
          at(i),
          code,
          `${words[i % 5]} ${words[(i + 1) % 5]} ${words[(i + 4) % 5]} retour`,
        );
      }),
      row('p-twin', at(16), 10, evaluationTitle.replace(/\d+/g, '') + ' 99'),
      { ...row('p-photo', at(17), 2583, ''), imagePath: photo },
      row('p-empty', at(18), 2583, ''),
      ...Array.from({ length: 4 }, (_, i) =>
        row(`p-new-${i}`, at(19 + i), NEW_CLASS, `peluche jouet doudou ${i}`),
      ),
    ];
    const file: FeedbackFile = { rows, missingPredictions: 2 };
    const path = join(root, `feedback-${rows.length}.json`);
    writeFileSync(path, JSON.stringify(file));
    return { path, rows };
  }

  function row(
    predictionId: string,
    labelledAt: string,
    prdtypecode: number,
    designation: string,
  ): FeedbackRow {
    return { predictionId, labelledAt, prdtypecode, designation, description: null };
  }

  it('without labelled predictions, trains on the base set alone and records no feedback', () => {
    expect(baseline.lineage.feedback).toBeUndefined();
    expect(baseline.gate!.recentFeedback).toBeUndefined();
    expect(baseline.gate!.reasons.join('\n')).not.toMatch(/recent feedback/);
    expect(baseCard.feedback).toBeUndefined();
  });

  it('holds out the most recent fifth of the labels, trains on the rest, and scores both models on them', async () => {
    const { path, rows } = feedbackFile();
    const result = await train('with-feedback', {
      feedback: { file: path, recent: 200 },
      productionDir: join(root, 'baseline'),
    });

    // 22 usable labels: floor(22 / 5) = 4 held out, the 4 newest; the twin and the empty row do not train.
    const newestTrained = rows.find((r) => r.predictionId === 'p-photo')!;
    expect(result.lineage.feedback).toEqual({
      labels: 17,
      heldOut: 4,
      withImages: 1,
      missingPredictions: 2,
      withheldTwins: 1,
      empty: 1,
      watermark: { labelledAt: newestTrained.labelledAt, predictionId: 'p-photo' },
    });
    const trained = card(join(root, 'with-feedback'));
    expect(trained.rows.products).toBe(baseCard.rows.products + 16);
    expect(trained.rows.imageOnly).toBe(baseCard.rows.imageOnly + 1);
    // The held-out labels are the only ones of the new class: the candidate never learned it.
    expect(trained.classes).toBe(baseCard.classes);
    expect(trained.feedback).toEqual(result.lineage.feedback);

    // The frozen split is the base set's, with or without feedback.
    expect(result.lineage.evaluationSplit).toBe(baseline.lineage.evaluationSplit);
    expect(card(join(root, 'with-feedback')).evaluationSplit).toEqual(baseCard.evaluationSplit);
    expect(result.gate!.candidate.n).toBe(baseline.gate!.candidate.n);

    const figures = {
      weighted_f1: expect.any(Number),
      macro_f1: expect.any(Number),
      accuracy: expect.any(Number),
    };
    expect(result.gate!.recentFeedback).toEqual({ n: 4, candidate: figures, production: figures });
    // Neither model knows the new class.
    expect(result.gate!.recentFeedback!.candidate.accuracy).toBe(0);
    const reasons = result.gate!.reasons;
    expect(reasons.at(-2)).toMatch(
      /^recent feedback \(for information; the frozen split decides\): on the 4 most/,
    );
    expect(reasons.at(-1)).toMatch(/^decision: /);
  });

  it('holds out no more than GATE_RECENT_FEEDBACK labels, and trains on the others', async () => {
    const { path, rows } = feedbackFile();
    const result = await train('two-held-out', { feedback: { file: path, recent: 2 } });

    expect(result.lineage.feedback).toMatchObject({
      labels: 19,
      heldOut: 2,
      watermark: { labelledAt: rows.at(-3)!.labelledAt, predictionId: 'p-new-1' },
    });
    const trained = card(join(root, 'two-held-out'));
    expect(trained.rows.products).toBe(baseCard.rows.products + 18);
    expect(trained.classes).toBe(baseCard.classes + 1);
    expect(result.lineage.evaluationSplit).toBe(baseline.lineage.evaluationSplit);
    expect(result.gate!.recentFeedback).toMatchObject({ n: 2, production: null });
    expect(result.gate!.recentFeedback!.candidate.accuracy).toBeGreaterThan(0);
  });
});
