import {
  acceptanceThreshold,
  coverageCurve,
  decide,
  expectedCalibrationError,
  reliabilityTable,
  wilsonLowerBound,
} from './calibration.report';

describe('calibration report', () => {
  it('bins predictions by confidence with their accuracy, and weighs the gaps into the ECE', () => {
    const table = reliabilityTable([0.95, 0.92, 0.55, 0.52], [true, false, true, true]);
    expect(table).toEqual([
      { lower: 0.5, upper: 0.6, meanConfidence: expect.closeTo(0.535, 9), accuracy: 1, count: 2 },
      { lower: 0.9, upper: 1, meanConfidence: expect.closeTo(0.935, 9), accuracy: 0.5, count: 2 },
    ]);
    expect(expectedCalibrationError(table)).toBeCloseTo(0.5 * 0.465 + 0.5 * 0.435, 9);
    expect(reliabilityTable([1], [true])[0]).toMatchObject({ lower: 0.9, upper: 1, count: 1 });
  });

  it('gives, at each threshold, the share at or above it and their accuracy', () => {
    const curve = coverageCurve([0.9, 0.8, 0.6, 0.3], [true, true, false, false]);
    expect(curve).toHaveLength(100);
    expect(curve[0]).toEqual({ threshold: 0, coverage: 1, precision: 0.5, count: 4 });
    expect(curve[70]).toEqual({ threshold: 0.7, coverage: 0.5, precision: 1, count: 2 });
    expect(curve[95]).toEqual({ threshold: 0.95, coverage: 0, precision: null, count: 0 });
  });

  describe('acceptance threshold', () => {
    // 1,000 predictions with confidence i/1000 that are right exactly when above 0.4 or on every other row.
    const confidences = Array.from({ length: 1000 }, (_, i) => i / 1000);
    const correct = confidences.map((c, i) => c >= 0.4 || i % 2 === 0);
    const curve = coverageCurve(confidences, correct);

    it('is the lowest threshold whose precision above it provably keeps the promise', () => {
      const threshold = acceptanceThreshold(curve, 0.95);
      const at = curve.find((p) => p.threshold === threshold)!;
      expect(wilsonLowerBound(Math.round(at.precision! * at.count), at.count)).toBeGreaterThanOrEqual(0.95);
      const below = curve.find((p) => Math.abs(p.threshold - (threshold - 0.01)) < 1e-9)!;
      expect(wilsonLowerBound(Math.round(below.precision! * below.count), below.count)).toBeLessThan(0.95);
      // The point estimate alone would accept more: the bound is the conservative side.
      const pointEstimate = curve.find((p) => p.precision! >= 0.95)!.threshold;
      expect(threshold).toBeGreaterThan(pointEstimate);
    });

    it('rises with the target, and is 1 (nothing accepted) for a promise no threshold keeps', () => {
      expect(acceptanceThreshold(curve, 0.8)).toBeLessThan(acceptanceThreshold(curve, 0.95));
      const poor = coverageCurve([0.99, 0.9], [true, false]);
      expect(acceptanceThreshold(poor, 0.95)).toBe(1);
      expect(() => acceptanceThreshold(curve, 1.5)).toThrow(RangeError);
    });

    it('needs more than a handful of rows: three right answers do not prove 95 %', () => {
      expect(acceptanceThreshold(coverageCurve([0.99, 0.98, 0.97], [true, true, true]), 0.95)).toBe(1);
    });
  });

  it('accepts at or above the threshold, and nothing at a threshold of 1', () => {
    expect(decide(0.9, 0.9)).toBe('accept');
    expect(decide(0.89, 0.9)).toBe('review');
    expect(decide(1, 1)).toBe('review');
  });
});
