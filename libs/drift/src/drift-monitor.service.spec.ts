import { InputVocabulary, runNow, TextFeatureExtractor } from '@app/ml';
import { DRIFT_SIGNALS, DriftProfile } from './drift-profile.stats';
import { bootstrapThresholds, thresholdSizes } from './drift-thresholds.stats';
import { DriftMonitor } from './drift-monitor.service';
import { parseDriftReference } from './drift-reference.schema';
import { syntheticReference, syntheticRows, syntheticWindow, SYNTHETIC_CLASSES } from './testing';

const settings = { window: 300, minWindow: 100, quantile: 0.99, draws: 300 };

describe('bootstrap thresholds', () => {
  const profile = new DriftProfile(syntheticReference(3000, 1));
  const table = runNow(bootstrapThresholds(profile, settings));
  const full = table.thresholds.at(-1)!;

  it('are drawn for sizes from the minimum window up to the full one, looser for smaller windows', () => {
    expect(table.sizes).toEqual(thresholdSizes(100, 300));
    expect(table.sizes[0]).toBe(100);
    expect(table.sizes.at(-1)).toBe(300);
    expect(table.thresholds[0].class_mix).toBeGreaterThan(full.class_mix);
  });

  it('keep false alarms rare on fresh traffic like the reference', () => {
    const alarms = Object.fromEntries(DRIFT_SIGNALS.map((signal) => [signal, 0]));
    const windows = 100;
    for (let seed = 0; seed < windows; seed++) {
      const values = syntheticWindow(profile, syntheticRows(300, 1000 + seed)).signals();
      for (const signal of DRIFT_SIGNALS) if (values[signal] > full[signal]) alarms[signal]++;
    }
    for (const signal of DRIFT_SIGNALS) expect(alarms[signal] / windows).toBeLessThanOrEqual(0.05);
  });

  it('are crossed by a window whose class mix, inputs and confidence moved', () => {
    const shifted = syntheticWindow(
      profile,
      syntheticRows(300, 5, {
        classWeights: [1, 1, 1, 8, 8],
        meanTextLength: 300,
        meanUnseen: 0.4,
        photoShare: 0.1,
      }),
    ).signals();
    for (const signal of ['class_mix', 'text_length', 'unseen_tokens', 'photo_share'] as const) {
      expect(shifted[signal]).toBeGreaterThan(full[signal]);
    }
  });
});

describe('DriftMonitor', () => {
  const vocabulary = InputVocabulary.fromFeatures(
    TextFeatureExtractor.fit([
      { designation: 'livre roman poche', description: '' },
      { designation: 'livre roman edition', description: 'auteur' },
      { designation: 'piscine pompe', description: 'filtration' },
      { designation: 'piscine bache', description: 'filtration pompe' },
    ]),
  );

  function answers(rows: ReturnType<typeof syntheticRows>) {
    return rows.map((row) => ({
      prdtypecode: row.predicted,
      probability: row.confidence,
      top: row.probabilities
        .map((probability, i) => ({ prdtypecode: SYNTHETIC_CLASSES[i], probability }))
        .sort((a, b) => b.probability - a.probability),
    }));
  }

  it('judges no signal below the minimum window, and flags a shifted stream once it has enough predictions', () => {
    const monitor = new DriftMonitor(settings);
    monitor.track('v1', monitor.build('v1', syntheticReference(3000, 1), vocabulary));
    const rows = syntheticRows(300, 9, { classWeights: [1, 1, 1, 8, 8] });
    const inputs = rows.map(() => ({ designation: 'livre zorglub', description: 'roman' }));
    monitor.observe('v1', inputs.slice(0, 99), answers(rows.slice(0, 99)));
    const early = monitor.reports()[0];
    expect(early).toMatchObject({ modelVersion: 'v1', predictions: 99, judged: false });
    expect(early.signals.every((s) => s.threshold === null && !s.drifting)).toBe(true);

    monitor.observe('v1', inputs.slice(99), answers(rows.slice(99)));
    const later = monitor.reports()[0];
    expect(later.judged).toBe(true);
    const byName = Object.fromEntries(later.signals.map((s) => [s.signal, s]));
    expect(byName.class_mix.drifting).toBe(true);
    // The texts carry one unseen word in three.
    expect(byName.unseen_tokens.drifting).toBe(true);
    expect(later.classShifts[0].prdtypecode).toBe(60);
    expect(later.estimatedF1).toBeGreaterThan(0);
  });

  it('reports a version without a reference as unwatched, and forgets a version it no longer serves', () => {
    const monitor = new DriftMonitor(settings);
    monitor.track('v2', null);
    expect(monitor.reports()).toEqual([expect.objectContaining({ modelVersion: 'v2', hasReference: false })]);
    monitor.forget('v2');
    expect(monitor.reports()).toEqual([]);
  });
});

describe('parseDriftReference', () => {
  it('names the first bad field', () => {
    const reference = syntheticReference(3, 1);
    expect(parseDriftReference(JSON.parse(JSON.stringify(reference))).rows).toHaveLength(3);
    const bad = JSON.parse(JSON.stringify(reference));
    bad.rows[1].unseenTokenShare = 2;
    expect(() => parseDriftReference(bad)).toThrow('rows[1].unseenTokenShare is missing or invalid');
    expect(() => parseDriftReference({ schema: 2 })).toThrow('schema must be 1');
  });
});
