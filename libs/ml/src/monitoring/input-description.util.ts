import { existsSync, readFileSync } from 'node:fs';
import { join, normalize } from 'node:path';
import { sha256 } from '@app/checksum';
import { ArtifactError, MANIFEST_FILE, type ArtifactManifest } from '../artifacts/model-artifact.format';
import type { ProductClassifier } from '../model/product.classifier';
import type { TextFeatureExtractor, TextFeatureParams } from '../text/text-features.extractor';
import { HashedTerms, TextHasher } from '../text/text-hashing.util';

/** What the input monitor knows of one input: the same three numbers at training time and at serving time. */
export interface InputDescription {
  /** Characters of designation + description, as sent. */
  textLength: number;
  /** Share of the text's words (occurrences) whose hash bucket the text model never kept in training, 0..1. */
  unseenTokenShare: number;
  hasImage: boolean;
}

/** An input as a caller or a dataset row has it: an image given as bytes or as a file. */
export interface DescribableInput {
  designation?: string;
  description?: string;
  image?: Uint8Array;
  imagePath?: string;
}

/** Components the lead vocabulary is read from, in the order the text ensemble puts its models. */
const LEAD_COMPONENTS = ['text-linear-0', 'text-neural-0'];
const BUCKETS_FILE = 'feature-buckets.i32';
/**
 * Description characters read for the unseen share: a word's bucket does not depend on how much of the text is
 * read, and normalising the whole of a long description (2000 characters for the linear view) cost about 75 µs
 * per prediction, a quarter of the time to score it. The title and the start of the description say as much
 * about new vocabulary.
 */
const DESCRIPTION_CHARS = 300;

/**
 * The words a model's text features kept in training (hash buckets at or above their minimum document frequency),
 * as a bit set: one lookup per word. Read from the lead text model (see TextEnsemble.leadFeatures).
 */
export class InputVocabulary {
  private readonly kept: Uint8Array;
  private readonly hasher: TextHasher;
  private readonly terms = new HashedTerms();

  private constructor(params: TextFeatureParams['options'], buckets: Int32Array) {
    this.hasher = new TextHasher({
      ...params,
      descriptionMaxChars: Math.min(params.descriptionMaxChars, DESCRIPTION_CHARS),
    });
    this.kept = new Uint8Array(1 << params.hashBits);
    for (const bucket of buckets) this.kept[bucket] = 1;
  }

  static fromFeatures(features: TextFeatureExtractor): InputVocabulary {
    return new InputVocabulary(features.options, features.toJSON().arrays.buckets);
  }

  /** The vocabulary of a classifier whose text models are in this thread. */
  static of(classifier: ProductClassifier): InputVocabulary {
    const features = classifier.textFeatures;
    if (!features)
      throw new Error('The classifier scores text in worker threads: load its vocabulary with load()');
    return InputVocabulary.fromFeatures(features);
  }

  /** Reads only the lead text model's bucket list from an artifact directory (checksum verified). */
  static load(dir: string): InputVocabulary {
    const manifest = JSON.parse(readFileSync(join(dir, MANIFEST_FILE), 'utf8')) as ArtifactManifest;
    const name = LEAD_COMPONENTS.find((component) => manifest.components[component]);
    if (!name) throw new ArtifactError(dir, 'no text model to read a vocabulary from');
    const component = manifest.components[name];
    const entry = component.files[BUCKETS_FILE];
    const path = join(dir, entry?.path ?? '');
    if (!entry || normalize(entry.path).startsWith('..') || !existsSync(path)) {
      throw new ArtifactError(dir, `${name} has no ${BUCKETS_FILE}`);
    }
    const bytes = readFileSync(path);
    if (sha256(bytes) !== entry.sha256) throw new ArtifactError(dir, `checksum mismatch for ${entry.path}`);
    const buckets = new Int32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    return new InputVocabulary((component.manifest.features as TextFeatureParams).options, buckets);
  }

  /**
   * Share of the word occurrences of the title and the first DESCRIPTION_CHARS characters of the description
   * outside the vocabulary (0 for a text without words).
   */
  unseenTokenShare(text: { designation?: string; description?: string }): number {
    const terms = this.hasher.hashWords(
      { designation: text.designation ?? '', description: text.description ?? '' },
      this.terms,
    );
    let words = 0;
    let unseen = 0;
    for (let i = 0; i < terms.size; i++) {
      words += terms.counts[i];
      if (!this.kept[terms.buckets[i]]) unseen += terms.counts[i];
    }
    return words === 0 ? 0 : unseen / words;
  }
}

// One vocabulary per classifier however many rows describeInput is called on.
const vocabularies = new WeakMap<ProductClassifier, InputVocabulary>();

function vocabularyOf(classifier: ProductClassifier): InputVocabulary {
  let vocabulary = vocabularies.get(classifier);
  if (!vocabulary) {
    vocabulary = InputVocabulary.of(classifier);
    vocabularies.set(classifier, vocabulary);
  }
  return vocabulary;
}

/**
 * The input statistics the drift monitor watches, for one input: called on the held-out rows when a version's
 * drift reference is written, and on every prediction that version serves, so that both sides measure alike.
 */
export function describeInput(
  vocabulary: InputVocabulary | ProductClassifier,
  input: DescribableInput,
): InputDescription {
  const words = vocabulary instanceof InputVocabulary ? vocabulary : vocabularyOf(vocabulary);
  return {
    textLength: (input.designation ?? '').length + (input.description ?? '').length,
    unseenTokenShare: words.unseenTokenShare(input),
    hasImage: (input.image?.byteLength ?? 0) > 0 || input.imagePath !== undefined,
  };
}
