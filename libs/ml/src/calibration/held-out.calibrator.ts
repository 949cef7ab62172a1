import type { ProductExample } from '../data/product.types';
import type { EvaluationRows } from '../evaluation/evaluation-split.util';
import type { ImageClassifier } from '../image/image.classifier';
import { fuseProbabilities } from '../model/probability-fusion.util';
import { describeInput, InputVocabulary } from '../monitoring/input-description.util';
import type { TextEnsemble } from '../text/text-ensemble.classifier';
import {
  calibrateModality,
  temperatureOf,
  type Modality,
  type ModelCalibration,
} from './model-calibration.util';
import { applyTemperature } from './temperature-scaling.util';

/** One held-out row as the drift monitor reads it (see DriftReference). */
export interface DriftReferenceRow {
  predicted: number;
  /** Calibrated top probability. */
  confidence: number;
  /** Calibrated probability of each class, in the order of DriftReference.classes. */
  probabilities: number[];
  label: number;
  /** Characters of the designation and the description. */
  textLength: number;
  /** Share of the text's words the text model did not keep in training (describeInput; 0 without text). */
  unseenTokenShare: number;
  hasImage: boolean;
}

/**
 * What the model's inputs and answers look like on data it did not train on: drift-reference.json in the artifact,
 * the baseline live traffic is compared with.
 */
export interface DriftReference {
  schema: 1;
  classes: number[];
  rows: DriftReferenceRow[];
}

export interface HeldOutModels {
  classes: readonly number[];
  text: TextEnsemble;
  image?: ImageClassifier;
  imageWeight: number;
}

export interface HeldOutCalibration {
  modalities: ModelCalibration['modalities'];
  driftReference: DriftReference;
}

/**
 * Scores the held-out slice with each modality the model has (text alone, image alone, both fused), fits one
 * temperature per modality, and describes every held-out row as served (both parts where it has both) for the
 * drift reference, with the input statistics the drift monitor computes on live traffic (describeInput).
 * `features` holds the image features of the rows' photos, by path.
 */
export function calibrateOnHeldOut(
  models: HeldOutModels,
  heldOut: EvaluationRows,
  features: ReadonlyMap<string, Float32Array>,
): HeldOutCalibration {
  const vocabulary = InputVocabulary.fromFeatures(models.text.leadFeatures);
  const numClasses = models.classes.length;
  const indexOf = new Map(models.classes.map((code, i) => [code, i]));
  const known = (row: ProductExample) => row.label !== undefined && indexOf.has(row.label);
  const withText = heldOut.products.filter((row) => known(row) && hasText(row));
  const withImage = models.image
    ? [...heldOut.products, ...heldOut.imageOnly].filter(
        (row) => known(row) && row.imagePath !== undefined && features.has(row.imagePath),
      )
    : [];
  const textProbs = withText.length
    ? models.text.predictProba(withText.map(({ designation, description }) => ({ designation, description })))
    : new Float32Array(0);
  const imageProbs = withImage.length
    ? models.image!.predictFeatures(withImage.map((row) => features.get(row.imagePath!)!))
    : new Float32Array(0);
  const textAt = new Map(withText.map((row, i) => [row, i]));
  const imageAt = new Map(withImage.map((row, i) => [row, i]));
  const rowOf = (probs: Float32Array, at: number) => probs.subarray(at * numClasses, (at + 1) * numClasses);

  const fusedRows = withText.filter((row) => imageAt.has(row));
  const fusedProbs = new Float32Array(fusedRows.length * numClasses);
  fusedRows.forEach((row, i) =>
    fuseProbabilities(
      rowOf(textProbs, textAt.get(row)!),
      rowOf(imageProbs, imageAt.get(row)!),
      models.imageWeight,
      fusedProbs.subarray(i * numClasses, (i + 1) * numClasses),
    ),
  );
  const labels = (rows: ProductExample[]) => rows.map((row) => indexOf.get(row.label!)!);
  const modalities: ModelCalibration['modalities'] = {};
  const fit = (modality: Modality, probs: Float32Array, rows: ProductExample[]) => {
    const result = calibrateModality(probs, labels(rows), numClasses);
    if (result) modalities[modality] = result;
  };
  fit('text', textProbs, withText);
  fit('image', imageProbs, withImage);
  fit('text+image', fusedProbs, fusedRows);

  const calibration = { modalities } as ModelCalibration;
  const fusedAt = new Map(fusedRows.map((row, i) => [row, i]));
  const rows: DriftReferenceRow[] = [];
  for (const row of [...heldOut.products, ...heldOut.imageOnly]) {
    const served: [Modality, Float32Array] | undefined = fusedAt.has(row)
      ? ['text+image', rowOf(fusedProbs, fusedAt.get(row)!)]
      : textAt.has(row)
        ? ['text', rowOf(textProbs, textAt.get(row)!)]
        : imageAt.has(row)
          ? ['image', rowOf(imageProbs, imageAt.get(row)!)]
          : undefined;
    if (!served) continue;
    const [modality, raw] = served;
    const probabilities = new Float32Array(numClasses);
    applyTemperature(raw, temperatureOf(calibration, modality), probabilities);
    let best = 0;
    for (let k = 1; k < numClasses; k++) if (probabilities[k] > probabilities[best]) best = k;
    rows.push({
      predicted: models.classes[best],
      confidence: probabilities[best],
      probabilities: [...probabilities],
      label: row.label!,
      ...describeInput(vocabulary, {
        designation: row.designation,
        description: row.description,
        imagePath: row.imagePath,
      }),
    });
  }
  return { modalities, driftReference: { schema: 1, classes: [...models.classes], rows } };
}

function hasText(row: ProductExample): boolean {
  return row.designation.trim() !== '' || row.description.trim() !== '';
}
