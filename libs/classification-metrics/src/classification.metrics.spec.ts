import { evaluateClassification } from './classification.metrics';

describe('evaluateClassification', () => {
  // Hand-computed: class 0: TP 2, FP 1, FN 0 -> P 2/3, R 1, F1 0.8; class 1: TP 1, FP 0, FN 1 -> P 1, R 1/2, F1 2/3;
  // class 2: TP 1, FP 1, FN 1 -> P 1/2, R 1/2, F1 1/2.
  const yTrue = [0, 0, 1, 1, 2, 2];
  const yPred = [0, 0, 1, 2, 2, 0];

  it('computes accuracy, per-class scores, averages and the confusion matrix', () => {
    const report = evaluateClassification(yTrue, yPred, [0, 1, 2]);
    expect(report.n).toBe(6);
    expect(report.accuracy).toBeCloseTo(4 / 6, 10);
    expect(report.per_class.map((m) => m.precision)).toEqual([2 / 3, 1, 1 / 2]);
    expect(report.per_class.map((m) => m.recall)).toEqual([1, 1 / 2, 1 / 2]);
    expect(report.per_class[0].f1).toBeCloseTo(0.8, 10);
    expect(report.per_class[1].f1).toBeCloseTo(2 / 3, 10);
    expect(report.per_class[2].f1).toBeCloseTo(0.5, 10);
    expect(report.per_class.map((m) => m.support)).toEqual([2, 2, 2]);
    expect(report.macro_f1).toBeCloseTo((0.8 + 2 / 3 + 0.5) / 3, 10);
    expect(report.weighted_f1).toBeCloseTo((0.8 + 2 / 3 + 0.5) / 3, 10);
    expect(report.confusion_matrix).toEqual({
      labels: [0, 1, 2],
      matrix: [
        [2, 0, 0],
        [0, 1, 1],
        [1, 0, 1],
      ],
    });
  });

  it('weights by support and leaves out classes absent from both yTrue and yPred', () => {
    // class 10: TP 3, FP 1 -> P 3/4, R 1, F1 6/7 (support 3); class 20: TP 0, FN 1 -> F1 0 (support 1).
    const report = evaluateClassification([10, 10, 10, 20], [10, 10, 10, 10], [10, 20, 30]);
    expect(report.per_class.map((m) => m.label)).toEqual([10, 20, 30]);
    expect(report.per_class[2]).toEqual({ label: 30, precision: 0, recall: 0, f1: 0, support: 0 });
    expect(report.weighted_f1).toBeCloseTo((3 * (6 / 7) + 1 * 0) / 4, 10);
    expect(report.macro_f1).toBeCloseTo(6 / 7 / 2, 10);
  });

  it('counts a class that is only predicted as F1 0 in the macro average, as sklearn does', () => {
    // class 1: P 1, R 1/2, F1 2/3 (support 2); class 2: predicted once, never true -> F1 0, support 0.
    const report = evaluateClassification([1, 1], [1, 2], [1, 2]);
    expect(report.macro_f1).toBeCloseTo(2 / 3 / 2, 10);
    expect(report.weighted_f1).toBeCloseTo(2 / 3, 10);
  });

  it('reports labels missing from the class list and rejects mismatched lengths', () => {
    expect(evaluateClassification([5], [7], [5]).confusion_matrix.labels).toEqual([5, 7]);
    expect(() => evaluateClassification([1, 2], [1], [1, 2])).toThrow();
  });
});
