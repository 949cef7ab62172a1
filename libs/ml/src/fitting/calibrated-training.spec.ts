import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MANIFEST_FILE } from '../artifacts/model-artifact.format';
import { ProductClassifier } from '../model/product.classifier';
import { writeFixtureDataset } from '../testing/dataset.fixture';
import { loadTrainingData } from './training-data.util';
import {
  DEFAULT_TRAIN_OPTIONS,
  trainingDocuments,
  trainProductClassifier,
  validationMetrics,
  type TrainingResult,
} from './product-classifier.trainer';

describe('training with a calibration slice', () => {
  let root: string;
  let trained: TrainingResult;
  let heldOut: number;
  let modelDir: string;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'calibrated-'));
    await writeFixtureDataset(join(root, 'data'));
    const { data } = loadTrainingData(join(root, 'data'));
    const options = {
      ...DEFAULT_TRAIN_OPTIONS,
      imageFeatures: 'handmade' as const,
      calibrationFraction: 0.5,
      text: { neuralModels: 1, linearViews: ['merged' as const] },
    };
    const lines: string[] = [];
    trained = await trainProductClassifier(data, options, (line) => lines.push(line));
    heldOut = Number(/(\d+) rows held out for calibration/.exec(lines.join('\n'))![1]);
    modelDir = join(root, 'model');
    await trained.classifier.save(modelDir, {
      metrics: validationMetrics(trained.card),
      ...trainingDocuments(trained),
    });
    trained.classifier.dispose();
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('records each modality it could calibrate: temperature, ECE before and after, reliability table and curve', () => {
    const calibration = trained.card.calibration!;
    expect(calibration.heldOut.products + calibration.heldOut.imageOnly).toBe(heldOut);
    const text = calibration.modalities.text!;
    expect(text.n).toBeGreaterThanOrEqual(15);
    expect(text.temperature).toBeGreaterThan(0);
    expect(text.curve).toHaveLength(100);
    expect(text.curve[0]).toMatchObject({ threshold: 0, coverage: 1, count: text.n });
    expect(text.reliability.after.reduce((sum, bin) => sum + bin.count, 0)).toBe(text.n);
    expect(validationMetrics(trained.card).calibration!.text).toEqual({
      n: text.n,
      temperature: text.temperature,
      ece_before: text.ece.before,
      ece_after: text.ece.after,
      accuracy: text.accuracy,
    });
  });

  it('trains the networks without the slice and, after calibrating, the linear models on every labelled text row', () => {
    const { products, extraText, textTraining, linearTraining } = trained.card.rows;
    expect(textTraining).toBeLessThan(products + extraText);
    expect(linearTraining).toBe(products + extraText);
    expect(trained.card.calibration!.heldOut.products).toBeGreaterThan(0);
  });

  it('writes drift-reference.json from the held-out slice, with calibrated probabilities', () => {
    const reference = JSON.parse(readFileSync(join(modelDir, 'drift-reference.json'), 'utf8'));
    expect(reference.schema).toBe(1);
    expect(reference.classes).toEqual([10, 1560, 2583]);
    expect(reference.rows).toHaveLength(heldOut);
    for (const row of reference.rows) {
      expect(row.probabilities.reduce((a: number, b: number) => a + b, 0)).toBeCloseTo(1, 4);
      expect(row.confidence).toBe(Math.max(...row.probabilities));
      expect(reference.classes[row.probabilities.indexOf(row.confidence)]).toBe(row.predicted);
      expect(row.unseenTokenShare).toBeGreaterThanOrEqual(0);
      expect(row.unseenTokenShare).toBeLessThanOrEqual(1);
    }
    const texts = reference.rows.filter((row: { textLength: number }) => row.textLength > 0);
    expect(texts.length).toBeGreaterThan(0);
    expect(reference.rows.some((row: { hasImage: boolean }) => row.hasImage)).toBe(true);
  });

  it('serves calibrated probabilities, and loads an artifact without calibration at temperature 1 with the same ranking', async () => {
    const item = [{ designation: 'piscine pompe', description: 'bache hivernage' }];
    const calibrated = await ProductClassifier.load(modelDir);
    const temperature = calibrated.calibration!.modalities.text!.temperature;
    const [answer] = await calibrated.predict(item, 3);
    calibrated.dispose();

    // An artifact written before calibration existed: no calibration document.
    const manifest = JSON.parse(readFileSync(join(modelDir, MANIFEST_FILE), 'utf8'));
    delete manifest.documents.calibration;
    writeFileSync(join(modelDir, MANIFEST_FILE), JSON.stringify(manifest));
    unlinkSync(join(modelDir, 'calibration.json'));
    const plain = await ProductClassifier.load(modelDir);
    expect(plain.calibration).toBeUndefined();
    const [raw] = await plain.predict(item, 3);
    plain.dispose();

    // Ranked alike, except classes whose calibrated probability underflowed to a tie at 0.
    expect(answer.top[0].prdtypecode).toBe(raw.top[0].prdtypecode);
    const sharpened = new Map(raw.top.map((t) => [t.prdtypecode, t.probability ** (1 / temperature)]));
    const sum = [...sharpened.values()].reduce((a, b) => a + b, 0);
    // With three classes the top three are all of them: p' = p^(1/T) / Σ p^(1/T).
    answer.top.forEach((t) => expect(t.probability).toBeCloseTo(sharpened.get(t.prdtypecode)! / sum, 4));
  });
});
