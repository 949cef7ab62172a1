import type { PredictionInput } from '../data/product.types';
import {
  ArtifactError,
  ArtifactManifest,
  readModelArtifact,
  writeModelArtifact,
} from '../artifacts/model-artifact.format';
import { InThreadBackboneRunner, type BackboneRunner } from '../image/backbone.runner';
import { computeImageFeatures } from '../image/image.featurizer';
import { ImageDecodeError, ImageDecoder } from '../image/image.decoder';
import { featureSourceKey, ImageClassifier, type ImageFeatureSource } from '../image/image.classifier';
import { TextEnsemble } from '../text/text-ensemble.classifier';
import type { TextFeatureExtractor } from '../text/text-features.extractor';
import { TextScoringPool } from '../text/text-scoring.pool';
import { fuseProbabilities } from './probability-fusion.util';
import { temperatureOf, type Modality, type ModelCalibration } from '../calibration/model-calibration.util';
import { applyTemperature } from '../calibration/temperature-scaling.util';

export interface ScoredClass {
  prdtypecode: number;
  category: string;
  probability: number;
}

export interface Prediction extends ScoredClass {
  /** The best classes, most probable first (the first is the prediction itself). */
  top: ScoredClass[];
  /** Which inputs the answer is based on. */
  modality: Modality;
  /** Present when part of the input was not used, saying which and why. */
  warnings?: string[];
}

/**
 * An item with its image already decoded to the image model's input size (`pixels`), or its image features
 * already computed (`imageFeatures`, from the image model's feature source: see ProductClassifier.imageFeatureSource).
 */
export interface DecodedItem {
  text?: { designation: string; description: string };
  pixels?: Uint8Array;
  imageFeatures?: Float32Array;
}

/** The caller's input cannot be classified (no usable text or image, or an image that does not decode). */
export class InvalidInputError extends Error {
  constructor(
    message: string,
    readonly index: number,
  ) {
    super(message);
    this.name = 'InvalidInputError';
  }
}

const IMAGE_COMPONENT = 'image';
const CALIBRATION_DOCUMENT = 'calibration';
const IMAGE_NOT_USED =
  'this model has no image part: the image was not used, the answer comes from the text alone';

/** A decoded item and what the answer must say about the input it came from. */
type NotedItem = DecodedItem & { warnings?: string[] };

export interface ClassifierParts {
  classes: number[];
  categoryNames: Record<string, string>;
  imageWeight: number;
  /** In this thread, or in worker threads (see ProductClassifier.load). */
  text: TextEnsemble | TextScoringPool;
  image?: ImageClassifier;
  /** Decodes the inputs' images (limits and concurrency); default: an ImageDecoder with its defaults. */
  imageDecoder?: ImageDecoder;
  /** Runs the image model's backbone, when it reads one; default: one in the calling thread, owned by this classifier. */
  backbones?: BackboneRunner;
  /** Temperatures (one per modality) fitted on held-out data; unset: probabilities served as the models give them. */
  calibration?: ModelCalibration;
}

export interface LoadOptions {
  /**
   * Score text in this many worker threads instead of the calling thread (0: in the calling thread). Each thread
   * holds its own copy of the text models; the image model stays in the calling thread.
   */
  scoringThreads?: number;
  /** Told when a scoring thread dies and is replaced. */
  onThreadError?: (message: string) => void;
  /** Decodes the inputs' images; one decoder shared by several classifiers bounds their decodes together. */
  imageDecoder?: ImageDecoder;
  /**
   * false: serve the models' own probabilities, ignoring the artifact's calibration (for measuring what calibration
   * changes); default true.
   */
  calibrated?: boolean;
  /**
   * Runs the image model's backbone (an API passes one thread pool shared by every version it loads); unset: one in
   * the calling thread, for tools that serve nobody while they score.
   */
  backbones?: BackboneRunner;
}

/**
 * The product-type classifier: text models and an optional image model over the same label map, fused by a
 * weighted product of their probabilities where an item has both. Immutable once built.
 */
export class ProductClassifier {
  private readonly imageDecoder: ImageDecoder;
  /** The backbone runner this classifier made itself (none was given): disposed with it. */
  private readonly ownBackbones?: BackboneRunner;

  constructor(private readonly parts: ClassifierParts) {
    this.imageDecoder = parts.imageDecoder ?? new ImageDecoder();
    if (parts.image?.source.kind === 'backbone' && !parts.backbones) {
      this.ownBackbones = new InThreadBackboneRunner();
    }
  }

  get classes(): readonly number[] {
    return this.parts.classes;
  }

  /** How the served probabilities are calibrated; undefined for a model trained before calibration existed. */
  get calibration(): ModelCalibration | undefined {
    return this.parts.calibration;
  }

  get hasImageModel(): boolean {
    return this.parts.image !== undefined;
  }

  /** Worker threads scoring text (0: scored in the calling thread). */
  get scoringThreads(): number {
    return this.parts.text instanceof TextScoringPool ? this.parts.text.size : 0;
  }

  /** Whether text can be scored now: false while every scoring thread is down (being replaced). */
  get canScoreText(): boolean {
    return !(this.parts.text instanceof TextScoringPool) || this.parts.text.running > 0;
  }

  /**
   * The features of the text model's vocabulary, when the text models are in this thread (undefined with scoring
   * threads: InputVocabulary.load reads it from the artifact instead).
   */
  get textFeatures(): TextFeatureExtractor | undefined {
    return this.parts.text instanceof TextEnsemble ? this.parts.text.leadFeatures : undefined;
  }

  get imageSize(): number | undefined {
    return this.parts.image?.size;
  }

  /** What the image model reads, to compute features for it (extractDatasetFeatures). */
  get imageSource(): ImageFeatureSource | undefined {
    return this.parts.image?.source;
  }

  /** What the image model reads (featureSourceKey): features cached under this key fit DecodedItem.imageFeatures. */
  get imageFeatureSource(): string | undefined {
    return this.parts.image ? featureSourceKey(this.parts.image.source) : undefined;
  }

  /** Loads the image model's backbone now, so that the first photo does not wait for it. */
  async warmImageFeatures(): Promise<void> {
    const source = this.parts.image?.source;
    if (source?.kind === 'backbone') await this.backbones!.warm(source.backbone);
  }

  private get backbones(): BackboneRunner | undefined {
    return this.parts.backbones ?? this.ownBackbones;
  }

  categoryName(code: number): string {
    return this.parts.categoryNames[String(code)] ?? String(code);
  }

  static async load(dir: string, options: LoadOptions = {}): Promise<ProductClassifier> {
    const threads = options.scoringThreads ?? 0;
    // With scoring threads, each thread reads (and verifies) the text models itself.
    const artifact = await readModelArtifact(dir, (name) => threads === 0 || name === IMAGE_COMPONENT);
    const image = artifact.components[IMAGE_COMPONENT];
    let text: TextEnsemble | TextScoringPool;
    if (threads > 0) {
      text = await TextScoringPool.start(dir, threads, options.onThreadError);
    } else {
      try {
        // The files were read for this load alone: the text models may empty them once their weights are copied.
        text = await TextEnsemble.deserialize(artifact.components, { consumeFiles: true });
      } catch (error) {
        throw new ArtifactError(dir, `the text models cannot be loaded (${(error as Error).message})`);
      }
    }
    try {
      return new ProductClassifier({
        classes: artifact.classes,
        categoryNames: artifact.categoryNames,
        imageWeight: artifact.fusion.imageWeight,
        text,
        image: image ? await ImageClassifier.deserialize(image.manifest, image.files) : undefined,
        imageDecoder: options.imageDecoder,
        backbones: options.backbones,
        calibration:
          options.calibrated === false
            ? undefined
            : readCalibration(dir, artifact.documents[CALIBRATION_DOCUMENT]),
      });
    } catch (error) {
      text.dispose();
      throw error;
    }
  }

  async save(dir: string, documents: Record<string, unknown>): Promise<ArtifactManifest> {
    if (!(this.parts.text instanceof TextEnsemble)) {
      throw new Error('A classifier loaded with scoring threads cannot be saved: load it without them');
    }
    return writeModelArtifact(dir, {
      classes: this.parts.classes,
      categoryNames: this.parts.categoryNames,
      fusion: { imageWeight: this.parts.imageWeight },
      components: {
        ...this.parts.text.serialize(),
        ...(this.parts.image ? { [IMAGE_COMPONENT]: await this.parts.image.serialize() } : {}),
      },
      documents: {
        ...documents,
        ...(this.parts.calibration && { [CALIBRATION_DOCUMENT]: this.parts.calibration }),
      },
    });
  }

  /** Classifies a batch of raw inputs. Throws InvalidInputError naming the first item that cannot be used. */
  async predict(inputs: PredictionInput[], topK = 5): Promise<Prediction[]> {
    const items = await Promise.all(inputs.map((input, index) => this.decode(input, index)));
    const probabilities = await this.score(items);
    return items.map((item, row) => this.describe(probabilities, row, item, topK));
  }

  /**
   * Calibrated probabilities (row-major, items × classes) for already decoded items. Items without text use the
   * image model alone; items without an image use the text model alone; each is rescaled by its modality's
   * temperature, which keeps the ranking of the classes.
   */
  async score(items: DecodedItem[]): Promise<Float32Array> {
    const numClasses = this.parts.classes.length;
    const out = new Float32Array(items.length * numClasses);
    const textRows = indicesWhere(items, (item) => item.text !== undefined);
    const imageRows = this.parts.image ? indicesWhere(items, hasImage) : [];
    const [textProbs, imageProbs] = await Promise.all([
      textRows.length
        ? this.parts.text.predictProba(textRows.map((i) => items[i].text!))
        : new Float32Array(0),
      imageRows.length && this.parts.image
        ? this.imageProbabilities(imageRows.map((i) => items[i]))
        : new Float32Array(0),
    ]);
    // Position of each item among the text (image) rows, -1 where it has none.
    const textAt = positions(items.length, textRows);
    const imageAt = positions(items.length, imageRows);
    for (let row = 0; row < items.length; row++) {
      const t = textAt[row];
      const m = imageAt[row];
      const target = out.subarray(row * numClasses, (row + 1) * numClasses);
      const textPart = t < 0 ? undefined : textProbs.subarray(t * numClasses, (t + 1) * numClasses);
      const imagePart = m < 0 ? undefined : imageProbs.subarray(m * numClasses, (m + 1) * numClasses);
      fuseProbabilities(textPart, imagePart, this.parts.imageWeight, target);
      const modality = textPart && imagePart ? 'text+image' : textPart ? 'text' : 'image';
      applyTemperature(target, temperatureOf(this.parts.calibration, modality));
    }
    return out;
  }

  dispose(): void {
    this.parts.text.dispose();
    this.parts.image?.dispose();
    this.ownBackbones?.dispose();
  }

  /** The image model's probabilities for items with an image: features given, or computed from the pixels. */
  private async imageProbabilities(items: DecodedItem[]): Promise<Float32Array> {
    const image = this.parts.image!;
    const missing = items.filter((item) => !item.imageFeatures);
    const computed = await computeImageFeatures(
      image.source,
      missing.map((item) => item.pixels!),
      this.backbones,
    );
    let next = 0;
    return image.predictFeatures(items.map((item) => item.imageFeatures ?? computed[next++]));
  }

  private async decode(input: PredictionInput, index: number): Promise<NotedItem> {
    const designation = input.designation?.trim() ?? '';
    const description = input.description?.trim() ?? '';
    const text = designation || description ? { designation, description } : undefined;
    if (!input.image || input.image.byteLength === 0) {
      if (!text)
        throw new InvalidInputError(`item ${index}: give a designation, a description or an image`, index);
      return { text };
    }
    if (!this.parts.image) {
      if (!text) {
        throw new InvalidInputError(
          `item ${index}: this model has no image component; give a designation`,
          index,
        );
      }
      return { text, warnings: [IMAGE_NOT_USED] };
    }
    try {
      return { text, pixels: await this.imageDecoder.decode(input.image, this.parts.image.size) };
    } catch (error) {
      if (error instanceof ImageDecodeError)
        throw new InvalidInputError(`item ${index}: ${error.message}`, index);
      throw error;
    }
  }

  private describe(probabilities: Float32Array, row: number, item: NotedItem, topK: number): Prediction {
    const numClasses = this.parts.classes.length;
    const scores = probabilities.subarray(row * numClasses, (row + 1) * numClasses);
    const top = topClasses(scores, Math.max(1, topK)).map((k) => ({
      prdtypecode: this.parts.classes[k],
      category: this.categoryName(this.parts.classes[k]),
      probability: scores[k],
    }));
    const modality = item.text && hasImage(item) ? 'text+image' : item.text ? 'text' : 'image';
    return { ...top[0], top, modality, ...(item.warnings && { warnings: item.warnings }) };
  }
}

/** The calibration document of an artifact; absent in artifacts written before calibration (served at temperature 1). */
function readCalibration(dir: string, document: unknown): ModelCalibration | undefined {
  if (document === undefined) return undefined;
  const calibration = document as Partial<ModelCalibration>;
  if (
    calibration.schema !== 1 ||
    typeof calibration.modalities !== 'object' ||
    calibration.modalities === null
  ) {
    throw new ArtifactError(dir, `${CALIBRATION_DOCUMENT}.json is not a calibration of schema 1`);
  }
  for (const [modality, entry] of Object.entries(calibration.modalities)) {
    if (!(typeof entry?.temperature === 'number' && entry.temperature > 0 && Array.isArray(entry.curve))) {
      throw new ArtifactError(dir, `${CALIBRATION_DOCUMENT}.json has no usable temperature for ${modality}`);
    }
  }
  return calibration as ModelCalibration;
}

function hasImage(item: DecodedItem): boolean {
  return item.pixels !== undefined || item.imageFeatures !== undefined;
}

function indicesWhere<T>(items: T[], predicate: (item: T) => boolean): number[] {
  const rows: number[] = [];
  items.forEach((item, row) => predicate(item) && rows.push(row));
  return rows;
}

function positions(length: number, rows: number[]): Int32Array {
  const at = new Int32Array(length).fill(-1);
  rows.forEach((row, k) => (at[row] = k));
  return at;
}

/**
 * The k highest scores' indices, highest first and ties in index order (what a stable sort of all classes gives),
 * by insertion into a short list rather than sorting every class.
 */
function topClasses(scores: Float32Array, k: number): number[] {
  const top: number[] = [];
  for (let c = 0; c < scores.length; c++) {
    if (top.length === k && !(scores[c] > scores[top[k - 1]])) continue;
    let at = top.length;
    while (at > 0 && scores[c] > scores[top[at - 1]]) at--;
    top.splice(at, 0, c);
    if (top.length > k) top.pop();
  }
  return top;
}
