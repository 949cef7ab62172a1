import { requireFile, toBytes } from '../runtime/binary-files';
import { normalizeText } from './text.normalizer';

export interface ProductText {
  designation: string;
  description: string;
}

/** One document as a sparse vector; a column may repeat (two fields hashed into it), its values then add up. */
export interface SparseRow {
  indices: Int32Array;
  values: Float32Array;
}

export interface TextFeatureOptions {
  /** log2 of the number of hash buckets. */
  hashBits: number;
  /** Buckets seen in fewer training documents are dropped: rare n-grams overfit and would cost model memory. */
  minDf: number;
  /** Character n-gram lengths (within words padded with spaces, like sklearn's char_wb). */
  charMin: number;
  charMax: number;
  /** Word n-grams up to this length. */
  wordMax: number;
  /** Raw description characters read at all; the rest of long descriptions adds cost, not signal. */
  descriptionMaxChars: number;
  /** Normalised description characters used for character n-grams, which are the expensive part. */
  descriptionCharChars: number;
  /** Digit runs longer than this collapse to one placeholder. */
  maxDigits: number;
  /** Weight of each field block after its own L2 normalisation: titles carry most of the signal. */
  weights: { titleWord: number; titleChar: number; descriptionWord: number; descriptionChar: number };
  /**
   * One namespace and one L2 norm for the whole listing instead of four weighted blocks (`weights` is then unused).
   * A second model on this view errs differently from one on the blocked view, which is what an ensemble needs.
   */
  mergedFields: boolean;
}

export const DEFAULT_TEXT_FEATURE_OPTIONS: TextFeatureOptions = {
  hashBits: 20,
  minDf: 2,
  charMin: 3,
  charMax: 5,
  wordMax: 2,
  descriptionMaxChars: 1000,
  descriptionCharChars: 200,
  maxDigits: 4,
  weights: { titleWord: 1, titleChar: 1, descriptionWord: 0.5, descriptionChar: 0.5 },
  mergedFields: false,
};

export interface TextFeatureParams {
  options: TextFeatureOptions;
  numDocs: number;
  numFeatures: number;
}

/** Fitted state as binary arrays, kept out of JSON because they hold hundreds of thousands of numbers. */
export interface TextFeatureArrays {
  /** Hash bucket of each feature column, ascending. */
  buckets: Int32Array;
  /** IDF of each feature column. */
  idf: Float32Array;
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
// Namespaces keep the same n-gram in different fields (and kinds) apart.
const TITLE_WORD = 1;
const TITLE_CHAR = 2;
const DESCRIPTION_WORD = 3;
const DESCRIPTION_CHAR = 4;
const SPACE = 0x20;

function fnvStep(hash: number, code: number): number {
  return Math.imul(hash ^ code, FNV_PRIME);
}

/** murmur3's finaliser: FNV alone leaves the low bits (the ones a bucket mask keeps) poorly mixed. */
function mix(hash: number): number {
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  return (hash ^ (hash >>> 16)) >>> 0;
}

/** A growable list of hash buckets for one field block. */
class BucketList {
  data = new Int32Array(1024);
  length = 0;

  push(bucket: number): void {
    if (this.length === this.data.length) {
      const grown = new Int32Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length++] = bucket;
  }

  /** Distinct buckets with their counts, sorted by bucket. */
  counts(): { buckets: Int32Array; counts: Int32Array } {
    const sorted = this.data.subarray(0, this.length).sort();
    const buckets = new Int32Array(this.length);
    const counts = new Int32Array(this.length);
    let k = -1;
    for (let i = 0; i < sorted.length; i++) {
      if (k >= 0 && buckets[k] === sorted[i]) counts[k]++;
      else {
        buckets[++k] = sorted[i];
        counts[k] = 1;
      }
    }
    this.length = 0;
    return { buckets: buckets.subarray(0, k + 1), counts: counts.subarray(0, k + 1) };
  }
}

interface HashedBlock {
  buckets: Int32Array;
  counts: Int32Array;
  weight: number;
}

/**
 * Hashed TF-IDF features of a product's title and description: word 1..wordMax-grams and char_wb n-grams per field,
 * each field/kind in its own hash namespace and its own L2-normalised block (sublinear TF × smooth IDF), scaled by a
 * per-block weight. Buckets below `minDf` in training are dropped and the rest renumbered into dense columns.
 */
export class TextFeatureExtractor {
  private readonly mask: number;
  /** Column of each hash bucket, -1 for dropped buckets: a typed array is far faster to probe than a Map. */
  private readonly columnOf: Int32Array;
  private readonly scratch = new BucketList();

  private constructor(
    readonly options: TextFeatureOptions,
    private readonly numDocs: number,
    private readonly arrays: TextFeatureArrays,
  ) {
    this.mask = (1 << options.hashBits) - 1;
    this.columnOf = new Int32Array(1 << options.hashBits).fill(-1);
    arrays.buckets.forEach((bucket, column) => (this.columnOf[bucket] = column));
  }

  get numFeatures(): number {
    return this.arrays.idf.length;
  }

  static fit(texts: ProductText[], options: Partial<TextFeatureOptions> = {}): TextFeatureExtractor {
    const resolved = { ...DEFAULT_TEXT_FEATURE_OPTIONS, ...options };
    const hashing = new TextFeatureExtractor(resolved, 0, {
      buckets: new Int32Array(0),
      idf: new Float32Array(0),
    });
    const df = new Int32Array(1 << resolved.hashBits);
    for (const text of texts) {
      for (const block of hashing.hash(text)) for (const bucket of block.buckets) df[bucket]++;
    }
    const kept: number[] = [];
    df.forEach((count, bucket) => {
      if (count >= resolved.minDf) kept.push(bucket);
    });
    const buckets = Int32Array.from(kept);
    const idf = Float32Array.from(kept, (bucket) => Math.log((1 + texts.length) / (1 + df[bucket])) + 1);
    return new TextFeatureExtractor(resolved, texts.length, { buckets, idf });
  }

  transform(texts: ProductText[]): SparseRow[] {
    return texts.map((text) => this.transformOne(text));
  }

  transformOne(text: ProductText): SparseRow {
    const blocks = this.hash(text);
    const size = blocks.reduce((sum, block) => sum + block.buckets.length, 0);
    const indices = new Int32Array(size);
    const values = new Float32Array(size);
    let length = 0;
    for (const { buckets, counts, weight } of blocks) {
      const start = length;
      let squares = 0;
      for (let i = 0; i < buckets.length; i++) {
        const column = this.columnOf[buckets[i]];
        if (column < 0) continue;
        const value = (1 + Math.log(counts[i])) * this.arrays.idf[column];
        indices[length] = column;
        values[length++] = value;
        squares += value * value;
      }
      const scale = squares > 0 ? weight / Math.sqrt(squares) : 0;
      for (let i = start; i < length; i++) values[i] *= scale;
    }
    return { indices: indices.slice(0, length), values: values.slice(0, length) };
  }

  toJSON(): { params: TextFeatureParams; arrays: TextFeatureArrays } {
    return {
      params: { options: this.options, numDocs: this.numDocs, numFeatures: this.numFeatures },
      arrays: this.arrays,
    };
  }

  /** The fitted state as artifact files (binary arrays) plus the JSON parameters. */
  toFiles(): { params: TextFeatureParams; files: Record<string, Uint8Array> } {
    return {
      params: this.toJSON().params,
      files: {
        'feature-buckets.i32': toBytes(this.arrays.buckets),
        'feature-idf.f32': toBytes(this.arrays.idf),
      },
    };
  }

  static fromFiles(params: TextFeatureParams, files: Record<string, Uint8Array>): TextFeatureExtractor {
    return TextFeatureExtractor.fromJSON(params, {
      buckets: new Int32Array(requireFile(files, 'feature-buckets.i32')),
      idf: new Float32Array(requireFile(files, 'feature-idf.f32')),
    });
  }

  static fromJSON(params: TextFeatureParams, arrays: TextFeatureArrays): TextFeatureExtractor {
    if (arrays.buckets.length !== params.numFeatures || arrays.idf.length !== params.numFeatures) {
      throw new Error(`Feature arrays do not match numFeatures ${params.numFeatures}`);
    }
    return new TextFeatureExtractor(params.options, params.numDocs, arrays);
  }

  private hash(text: ProductText): HashedBlock[] {
    const o = this.options;
    const title = normalizeText(text.designation ?? '', { maxDigits: o.maxDigits });
    const description = normalizeText(text.description ?? '', {
      maxDigits: o.maxDigits,
      maxLength: o.descriptionMaxChars,
    });
    const titleWords = title ? title.split(' ') : [];
    const descriptionWords = description ? description.split(' ') : [];
    const descriptionHead = description.slice(0, o.descriptionCharChars);
    const charWords = descriptionHead ? descriptionHead.split(' ') : [];
    if (o.mergedFields) {
      return [
        this.block(1, (out) => {
          this.wordNgrams(TITLE_WORD, titleWords, out);
          this.wordNgrams(TITLE_WORD, descriptionWords, out);
          this.charNgrams(TITLE_CHAR, titleWords, out);
          this.charNgrams(TITLE_CHAR, charWords, out);
        }),
      ];
    }
    return [
      this.block(o.weights.titleWord, (out) => this.wordNgrams(TITLE_WORD, titleWords, out)),
      this.block(o.weights.titleChar, (out) => this.charNgrams(TITLE_CHAR, titleWords, out)),
      this.block(o.weights.descriptionWord, (out) =>
        this.wordNgrams(DESCRIPTION_WORD, descriptionWords, out),
      ),
      this.block(o.weights.descriptionChar, (out) => this.charNgrams(DESCRIPTION_CHAR, charWords, out)),
    ];
  }

  private block(weight: number, fill: (out: BucketList) => void): HashedBlock {
    fill(this.scratch);
    return { ...this.scratch.counts(), weight };
  }

  private wordNgrams(namespace: number, words: string[], out: BucketList): void {
    const seed = fnvStep(FNV_OFFSET, namespace);
    for (let start = 0; start < words.length; start++) {
      let hash = seed;
      for (let n = 0; n < this.options.wordMax && start + n < words.length; n++) {
        if (n > 0) hash = fnvStep(hash, SPACE);
        const word = words[start + n];
        for (let c = 0; c < word.length; c++) hash = fnvStep(hash, word.charCodeAt(c));
        out.push(mix(hash) & this.mask);
      }
    }
  }

  private charNgrams(namespace: number, words: string[], out: BucketList): void {
    const { charMin, charMax } = this.options;
    const seed = fnvStep(FNV_OFFSET, namespace);
    for (const word of words) {
      // Positions run over " word ": index -1 and word.length are the padding spaces.
      const last = word.length;
      for (let start = -1; start <= last; start++) {
        let hash = seed;
        for (let n = 1; n <= charMax && start + n - 1 <= last; n++) {
          const at = start + n - 1;
          hash = fnvStep(hash, at < 0 || at === last ? SPACE : word.charCodeAt(at));
          if (n >= charMin) out.push(mix(hash) & this.mask);
        }
      }
    }
  }
}
