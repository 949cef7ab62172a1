import { syntheticReference, syntheticRows, syntheticWindow } from './testing';
import { DriftProfile, jensenShannonDistance, trueWeightedF1 } from './drift-profile.stats';
import { DriftWindow } from './drift-window.stats';

describe('jensenShannonDistance', () => {
  it('is 0 for the reference itself and 1 for a distribution with no common class', () => {
    expect(jensenShannonDistance([2, 6, 2], 10, [0.2, 0.6, 0.2])).toBeCloseTo(0, 12);
    expect(jensenShannonDistance([0, 0, 5], 5, [0.5, 0.5, 0])).toBeCloseTo(1, 12);
    expect(jensenShannonDistance([0, 0, 0], 0, [0.5, 0.5, 0])).toBe(0);
  });
});

describe('DriftWindow', () => {
  const profile = new DriftProfile(syntheticReference());

  it('keeps counts that equal a recount of its last predictions however long it has slid', () => {
    const sliding = new DriftWindow(profile, 50);
    const rows = syntheticRows(237, 7, { classWeights: [1, 1, 5, 1, 1] }).map((row) => ({
      ...row,
      predicted: profile.indexOf(row.predicted),
      topClasses: [profile.indexOf(row.predicted)],
      topProbabilities: [row.confidence],
    }));
    rows.forEach((row) => sliding.add(row));
    const fresh = new DriftWindow(profile, 50);
    rows.slice(-50).forEach((row) => fresh.add(row));
    expect(sliding.count).toBe(50);
    const slid = sliding.signals();
    const recounted = fresh.signals();
    for (const signal of Object.keys(slid) as (keyof typeof slid)[]) {
      expect(slid[signal]).toBeCloseTo(recounted[signal], 9);
    }
    expect(sliding.estimatedF1()).toBeCloseTo(fresh.estimatedF1(), 9);
  });

  it('estimates the weighted F1 of calibrated predictions close to their true F1, without their labels', () => {
    const rows = syntheticRows(4000, 11);
    const window = syntheticWindow(profile, rows);
    const truth = trueWeightedF1(
      rows.map((row) => profile.indexOf(row.label)),
      rows.map((row) => profile.indexOf(row.predicted)),
      profile.classes.length,
    );
    expect(Math.abs(window.estimatedF1() - truth)).toBeLessThan(0.03);
    expect(Math.abs(profile.estimatedF1 - profile.trueF1)).toBeLessThan(0.03);
  });

  it('names the classes whose share moved most', () => {
    const window = new DriftWindow(profile, 500);
    for (const row of syntheticRows(500, 3, { classWeights: [1, 1, 1, 1, 12] })) {
      window.add({ ...row, predicted: profile.indexOf(row.predicted), topClasses: [], topProbabilities: [] });
    }
    const [first] = window.classShifts(3);
    expect(profile.classes[first.index]).toBe(2583);
    expect(first.windowShare).toBeGreaterThan(first.referenceShare + 0.3);
  });
});
