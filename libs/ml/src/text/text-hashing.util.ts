import { NormalizedCodes, normalizeTextInto, type NormalizeOptions } from './text.normalizer';

export interface ProductText {
  designation: string;
  description: string;
}

/** The options that decide which hash buckets a text falls into (the rest of TextFeatureOptions only weighs them). */
export interface HashingOptions {
  /** log2 of the number of hash buckets. */
  hashBits: number;
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
  /**
   * One namespace and one L2 norm for the whole listing instead of four weighted blocks (`weights` is then unused).
   * A second model on this view errs differently from one on the blocked view, which is what an ensemble needs.
   */
  mergedFields: boolean;
  /**
   * Blocked view only: the title is hashed into the description's blocks too, which then describe the whole listing
   * (title words count twice: once on their own, once among the listing's).
   */
  titleInDescription?: boolean;
  /**
   * Character n-grams keep punctuation and symbols (see NormalizeOptions.keepPunctuation); word n-grams are still
   * made of letters and digits only.
   */
  keepPunctuation?: boolean;
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
// Namespaces keep the same n-gram in different fields (and kinds) apart.
const TITLE_WORD = 1;
const TITLE_CHAR = 2;
const DESCRIPTION_WORD = 3;
const DESCRIPTION_CHAR = 4;
const SPACE = 0x20;

let wordUnits: Uint8Array | undefined;

/**
 * 1 for the UTF-16 code units that belong to a word (letters, digits, and surrogates, which only come in pairs
 * here): what separates words in a normalised text whose punctuation was kept.
 */
function wordUnitTable(): Uint8Array {
  wordUnits ??= Uint8Array.from({ length: 0x10000 }, (_, c) =>
    (c >= 0xd800 && c <= 0xdfff) || /[\p{L}\p{N}]/u.test(String.fromCharCode(c)) ? 1 : 0,
  );
  return wordUnits;
}

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

/**
 * One text's hashed n-grams: per field block, its distinct buckets with their counts, blocks back to back
 * (block b is [blockStart[b], blockStart[b + 1])). Reused from one text to the next, so hashing allocates nothing.
 */
export class HashedTerms {
  buckets: Int32Array = new Int32Array(1024);
  counts: Int32Array = new Int32Array(1024);
  /** Filled up to blockStart[blocks]. */
  readonly blockStart = new Int32Array(5);
  blocks = 0;

  get size(): number {
    return this.blockStart[this.blocks];
  }
}

/**
 * Counts the distinct buckets of one block in an open-addressing table (generation-stamped, so it is never
 * cleared), appending each new bucket to `terms` in order of first occurrence.
 */
class BucketCounter {
  private keys = new Int32Array(4096);
  private slots = new Int32Array(4096);
  private stamps = new Int32Array(4096);
  private generation = 0;
  private terms = new HashedTerms();
  private start = 0;
  private length = 0;
  /** The block's counts in first-occurrence order, kept while sorting reorders them. */
  private firstCounts = new Int32Array(0);

  begin(terms: HashedTerms, start: number): void {
    this.terms = terms;
    this.start = start;
    this.length = start;
    if (++this.generation === 0x7fffffff) {
      this.stamps.fill(0);
      this.generation = 1;
    }
  }

  add(bucket: number): void {
    // Kept at most half full: a block has at most as many distinct buckets as it has n-grams.
    if ((this.length - this.start) * 2 >= this.keys.length) this.grow();
    const { keys, stamps, generation } = this;
    const mask = keys.length - 1;
    let slot = bucket & mask;
    while (stamps[slot] === generation) {
      if (keys[slot] === bucket) {
        this.terms.counts[this.slots[slot]]++;
        return;
      }
      slot = (slot + 1) & mask;
    }
    stamps[slot] = generation;
    keys[slot] = bucket;
    this.slots[slot] = this.length;
    const terms = this.terms;
    if (this.length === terms.buckets.length) {
      terms.buckets = grown(terms.buckets, this.length * 2);
      terms.counts = grown(terms.counts, this.length * 2);
    }
    terms.buckets[this.length] = bucket;
    terms.counts[this.length++] = 1;
  }

  /** Ends the block; with `sorted`, its buckets are put in ascending order (their counts with them). */
  end(sorted: boolean): number {
    if (sorted && this.length > this.start) {
      const { buckets, counts } = this.terms;
      if (this.firstCounts.length < this.length) this.firstCounts = new Int32Array(this.terms.counts.length);
      const firstCounts = this.firstCounts;
      firstCounts.set(counts.subarray(this.start, this.length), this.start);
      buckets.subarray(this.start, this.length).sort();
      for (let i = this.start; i < this.length; i++) counts[i] = firstCounts[this.positionOf(buckets[i])];
    }
    return this.length;
  }

  /** Where a bucket of the current block was first appended. */
  private positionOf(bucket: number): number {
    const mask = this.keys.length - 1;
    let slot = bucket & mask;
    while (this.keys[slot] !== bucket) slot = (slot + 1) & mask;
    return this.slots[slot];
  }

  private grow(): void {
    const size = this.keys.length * 2;
    this.keys = new Int32Array(size);
    this.slots = new Int32Array(size);
    this.stamps = new Int32Array(size);
    this.generation = 1;
    const { buckets } = this.terms;
    const mask = size - 1;
    for (let i = this.start; i < this.length; i++) {
      let slot = buckets[i] & mask;
      while (this.stamps[slot] === 1) slot = (slot + 1) & mask;
      this.stamps[slot] = 1;
      this.keys[slot] = buckets[i];
      this.slots[slot] = i;
    }
  }
}

function grown(array: Int32Array, size: number): Int32Array {
  const bigger = new Int32Array(size);
  bigger.set(array);
  return bigger;
}

/**
 * Word 1..wordMax-grams and char_wb n-grams of a product's title and description, hashed into 2^hashBits buckets,
 * each field/kind in its own namespace and block (or all in one block with `mergedFields`). Models whose features
 * share these options can share one hashing of a text (`key` tells them apart).
 */
export class TextHasher {
  /** Equal for hashers that put every text into the same buckets. */
  readonly key: string;
  private readonly mask: number;
  private readonly counter = new BucketCounter();
  private readonly title = new NormalizedCodes();
  private readonly description = new NormalizedCodes();
  private wordStart: Int32Array = new Int32Array(256);
  private wordEnd: Int32Array = new Int32Array(256);
  /** How titles and descriptions are normalised, fixed per hasher so that hashing a text allocates nothing. */
  private readonly titleNormalization: NormalizeOptions;
  private readonly descriptionNormalization: NormalizeOptions;
  /** Set when punctuation is kept: word n-grams then split the text on anything but letters and digits. */
  private readonly wordUnits?: Uint8Array;

  constructor(private readonly options: HashingOptions) {
    this.mask = (1 << options.hashBits) - 1;
    const { hashBits, charMin, charMax, wordMax, descriptionMaxChars, descriptionCharChars, maxDigits } =
      options;
    this.key = JSON.stringify([
      hashBits,
      charMin,
      charMax,
      wordMax,
      descriptionMaxChars,
      descriptionCharChars,
      maxDigits,
      options.mergedFields,
      options.titleInDescription ?? false,
      options.keepPunctuation ?? false,
    ]);
    const keepPunctuation = options.keepPunctuation ?? false;
    this.titleNormalization = { maxDigits, keepPunctuation };
    this.descriptionNormalization = { maxDigits, keepPunctuation, maxLength: descriptionMaxChars };
    this.wordUnits = options.keepPunctuation ? wordUnitTable() : undefined;
  }

  /** Normalises the text's title and description into this hasher's buffers, `title` and `description`. */
  private normalizeFields(text: ProductText): void {
    normalizeTextInto(text.designation ?? '', this.titleNormalization, this.title);
    normalizeTextInto(text.description ?? '', this.descriptionNormalization, this.description);
  }

  /** The number of blocks a text hashes into. */
  get blockCount(): number {
    return this.options.mergedFields ? 1 : 4;
  }

  /**
   * Hashes one text into `out`. Buckets come in order of first occurrence, or ascending with `sorted` (the order
   * training has always used, which fixes the order in which a row's terms are summed).
   */
  hash(text: ProductText, out: HashedTerms, sorted = false): HashedTerms {
    const o = this.options;
    this.normalizeFields(text);
    const { title, description } = this;
    const charEnd = Math.min(description.length, o.descriptionCharChars);
    const counter = this.counter;
    out.blocks = 0;
    out.blockStart[0] = 0;
    const endBlock = () => (out.blockStart[++out.blocks] = counter.end(sorted));
    counter.begin(out, 0);
    if (o.mergedFields) {
      this.wordNgrams(TITLE_WORD, title.codes, title.length);
      this.wordNgrams(TITLE_WORD, description.codes, description.length);
      this.charNgrams(TITLE_CHAR, title.codes, title.length);
      this.charNgrams(TITLE_CHAR, description.codes, charEnd);
      endBlock();
      return out;
    }
    this.wordNgrams(TITLE_WORD, title.codes, title.length);
    endBlock();
    counter.begin(out, out.size);
    this.charNgrams(TITLE_CHAR, title.codes, title.length);
    endBlock();
    counter.begin(out, out.size);
    if (o.titleInDescription) this.wordNgrams(DESCRIPTION_WORD, title.codes, title.length);
    this.wordNgrams(DESCRIPTION_WORD, description.codes, description.length);
    endBlock();
    counter.begin(out, out.size);
    if (o.titleInDescription) this.charNgrams(DESCRIPTION_CHAR, title.codes, title.length);
    this.charNgrams(DESCRIPTION_CHAR, description.codes, charEnd);
    endBlock();
    return out;
  }

  /**
   * The distinct word buckets (single words, no word pairs) of one text with their counts, title words then
   * description words in the namespaces hash() puts them in, as one block of `out`: what an input monitor compares
   * with a model's vocabulary.
   */
  hashWords(text: ProductText, out: HashedTerms): HashedTerms {
    const o = this.options;
    this.normalizeFields(text);
    const { title, description } = this;
    out.blocks = 0;
    out.blockStart[0] = 0;
    this.counter.begin(out, 0);
    this.wordNgrams(TITLE_WORD, title.codes, title.length, 1);
    this.wordNgrams(o.mergedFields ? TITLE_WORD : DESCRIPTION_WORD, description.codes, description.length, 1);
    out.blockStart[++out.blocks] = this.counter.end(false);
    return out;
  }

  /** Records word k as text[start, end), growing the word arrays when they are full. */
  private setWord(k: number, start: number, end: number): void {
    if (k === this.wordStart.length) {
      this.wordStart = grown(this.wordStart, k * 2);
      this.wordEnd = grown(this.wordEnd, k * 2);
    }
    this.wordStart[k] = start;
    this.wordEnd[k] = end;
  }

  /** The maximal runs of word units in text[0, end), into wordStart/wordEnd; returns their number. */
  private tokens(text: Uint16Array, end: number, units: Uint8Array): number {
    let count = 0;
    let start = -1;
    for (let i = 0; i <= end; i++) {
      const inWord = i < end && units[text[i]] === 1;
      if (inWord) {
        if (start < 0) start = i;
        continue;
      }
      if (start < 0) continue;
      this.setWord(count++, start, i);
      start = -1;
    }
    return count;
  }

  /**
   * Splits text[0, end) on single spaces as String.split(' ') would (an empty text has no words; a cut just after
   * a space leaves one empty last word), into wordStart/wordEnd; returns the number of words.
   */
  private words(text: Uint16Array, end: number): number {
    if (end === 0) return 0;
    let count = 0;
    let start = 0;
    for (let i = 0; i <= end; i++) {
      if (i < end && text[i] !== SPACE) continue;
      this.setWord(count++, start, i);
      start = i + 1;
    }
    return count;
  }

  private wordNgrams(
    namespace: number,
    text: Uint16Array,
    end: number,
    wordMax = this.options.wordMax,
  ): void {
    const count = this.wordUnits ? this.tokens(text, end, this.wordUnits) : this.words(text, end);
    const { wordStart, wordEnd, counter, mask } = this;
    const seed = fnvStep(FNV_OFFSET, namespace);
    for (let first = 0; first < count; first++) {
      let hash = seed;
      for (let n = 0; n < wordMax && first + n < count; n++) {
        if (n > 0) hash = fnvStep(hash, SPACE);
        const to = wordEnd[first + n];
        for (let c = wordStart[first + n]; c < to; c++) hash = fnvStep(hash, text[c]);
        counter.add(mix(hash) & mask);
      }
    }
  }

  private charNgrams(namespace: number, text: Uint16Array, end: number): void {
    const count = this.words(text, end);
    const { wordStart, wordEnd, counter, mask } = this;
    const { charMin, charMax } = this.options;
    const seed = fnvStep(FNV_OFFSET, namespace);
    for (let w = 0; w < count; w++) {
      // Positions run over " word ": from - 1 and to are the padding spaces.
      const from = wordStart[w];
      const to = wordEnd[w];
      for (let start = from - 1; start <= to; start++) {
        let hash = seed;
        for (let n = 1; n <= charMax && start + n - 1 <= to; n++) {
          const at = start + n - 1;
          hash = fnvStep(hash, at < from || at === to ? SPACE : text[at]);
          if (n >= charMin) counter.add(mix(hash) & mask);
        }
      }
    }
  }
}
