export interface ClassMetrics {
  label: number;
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface ClassificationReport {
  n: number;
  accuracy: number;
  weighted_f1: number;
  macro_f1: number;
  per_class: ClassMetrics[];
  confusion_matrix: { labels: number[]; matrix: number[][] };
}

/**
 * Accuracy, F1 averages, per-class scores and the confusion matrix (rows = true, columns = predicted), with
 * scikit-learn's semantics and zero_division = 0.
 *
 * `per_class` and the matrix cover every label in `classes` (plus any unexpected label found in the data), so that
 * reports from different folds line up. The macro and weighted averages, like sklearn's `f1_score` called without
 * `labels`, only cover labels present in yTrue ∪ yPred: a class absent from both says nothing about the model and
 * is left out, while a class that is only predicted (support 0) counts as F1 0 in the macro average (its weight in
 * the weighted average is its support, 0).
 */
export function evaluateClassification(
  yTrue: number[],
  yPred: number[],
  classes: number[],
): ClassificationReport {
  if (yTrue.length !== yPred.length) {
    throw new Error(`yTrue has ${yTrue.length} items but yPred has ${yPred.length}`);
  }
  const labels = [...new Set([...classes, ...yTrue, ...yPred])].sort((a, b) => a - b);
  const position = new Map(labels.map((label, i) => [label, i]));
  const matrix = labels.map(() => labels.map(() => 0));
  let correct = 0;
  for (let i = 0; i < yTrue.length; i++) {
    matrix[position.get(yTrue[i])!][position.get(yPred[i])!]++;
    if (yTrue[i] === yPred[i]) correct++;
  }

  const per_class = labels.map((label, c) => {
    const truePositives = matrix[c][c];
    const support = matrix[c].reduce((sum, count) => sum + count, 0);
    const predicted = matrix.reduce((sum, row) => sum + row[c], 0);
    const precision = predicted === 0 ? 0 : truePositives / predicted;
    const recall = support === 0 ? 0 : truePositives / support;
    const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    return { label, precision, recall, f1, support, predicted };
  });

  const averaged = per_class.filter((m) => m.support > 0 || m.predicted > 0);
  const n = yTrue.length;
  return {
    n,
    accuracy: n === 0 ? 0 : correct / n,
    weighted_f1: n === 0 ? 0 : averaged.reduce((sum, m) => sum + m.f1 * m.support, 0) / n,
    macro_f1: averaged.length === 0 ? 0 : averaged.reduce((sum, m) => sum + m.f1, 0) / averaged.length,
    per_class: per_class.map(({ label, precision, recall, f1, support }) => ({
      label,
      precision,
      recall,
      f1,
      support,
    })),
    confusion_matrix: { labels, matrix },
  };
}

/** Index of the most probable class of each row of a row-major n × numClasses matrix (the first on a tie). */
export function argmaxRows(probabilities: Float32Array, numClasses: number): number[] {
  const out: number[] = [];
  for (let start = 0; start < probabilities.length; start += numClasses) {
    let best = 0;
    for (let c = 1; c < numClasses; c++) if (probabilities[start + c] > probabilities[start + best]) best = c;
    out.push(best);
  }
  return out;
}
