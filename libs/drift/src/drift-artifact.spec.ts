import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeInput, ProductClassifier } from '@app/ml';
import { fixtureTexts, trainFixtureModel } from '@app/ml/testing';
import { DriftMonitor } from './drift-monitor.service';
import type { DriftReference } from './drift-reference.schema';

const settings = { window: 100, minWindow: 20, quantile: 0.99, draws: 100 };

describe('DriftMonitor.load', () => {
  let source: string;
  let withReference: string;
  let withoutReference: string;
  let emptyReference: string;
  let classifier: ProductClassifier;

  beforeAll(async () => {
    source = await trainFixtureModel(0, { withImages: false });
    classifier = await ProductClassifier.load(source);
    // What the training step writes: the model's answers on held-out rows, their labels and input statistics.
    const texts = fixtureTexts(60);
    const predictions = await classifier.predict(texts, classifier.classes.length);
    const reference: DriftReference = {
      schema: 1,
      classes: [...classifier.classes],
      rows: predictions.map((prediction, i) => ({
        predicted: prediction.prdtypecode,
        confidence: prediction.probability,
        probabilities: classifier.classes.map(
          (code) => prediction.top.find((entry) => entry.prdtypecode === code)!.probability,
        ),
        label: prediction.prdtypecode,
        ...describeInput(classifier, texts[i]),
      })),
    };
    withReference = mkdtempSync(join(tmpdir(), 'drift-artifact-'));
    withoutReference = mkdtempSync(join(tmpdir(), 'drift-artifact-'));
    await classifier.save(withoutReference, {});
    const empty = mkdtempSync(join(tmpdir(), 'drift-artifact-'));
    await classifier.save(withReference, { 'drift-reference': reference });
    await classifier.save(empty, { 'drift-reference': { ...reference, rows: [] } });
    emptyReference = empty;
  }, 60_000);

  afterAll(() => {
    classifier.dispose();
    rmSync(source, { recursive: true, force: true });
    for (const dir of [withReference, withoutReference, emptyReference])
      rmSync(dir, { recursive: true, force: true });
  });

  it("reads the version's reference and vocabulary from its artifact and watches its answers", async () => {
    const monitor = new DriftMonitor(settings);
    monitor.track('v1', await monitor.load('v1', withReference));
    // The very rows of the reference, served: the API describes and bins them as the training step did.
    const texts = fixtureTexts(60);
    monitor.observe('v1', texts, await classifier.predict(texts));
    const [same] = monitor.reports();
    expect(same).toMatchObject({ modelVersion: 'v1', hasReference: true, predictions: 60, judged: true });
    for (const signal of same.signals) expect(signal.value).toBeCloseTo(0, 6);

    const other = new DriftMonitor(settings);
    other.track('v1', await other.load('v1', withReference));
    const strange = texts.map((_, i) => ({ designation: `zorglub quantique ${i}`, description: 'inconnu' }));
    other.observe('v1', strange, await classifier.predict(strange));
    const unseen = other.reports()[0].signals.find((s) => s.signal === 'unseen_tokens')!;
    expect(unseen.drifting).toBe(true);
  });

  it('leaves a version without a reference unwatched, and refuses a reference that was altered', async () => {
    const monitor = new DriftMonitor(settings);
    expect(await monitor.load('v0', withoutReference)).toBeNull();
    expect(await monitor.load('v0', emptyReference)).toBeNull();
    const path = join(withReference, 'drift-reference.json');
    const original = readFileSync(path);
    try {
      writeFileSync(path, original.toString().replace('"schema": 1', '"schema": 1 '));
      await expect(monitor.load('v1', withReference)).rejects.toThrow(/checksum mismatch/);
    } finally {
      writeFileSync(path, original);
    }
    expect(await new DriftMonitor(settings, false).load('v1', withReference)).toBeNull();
  });
});
