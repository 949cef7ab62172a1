import { decodeHtmlEntities } from './html-entities.util';

export interface NormalizeOptions {
  /** Digit runs longer than this become a single '0' (keeps sizes such as "a4" or "12" but not EANs or prices). */
  maxDigits?: number;
  /** Input beyond this many characters is ignored: long descriptions add cost, not signal. */
  maxLength?: number;
  /**
   * Punctuation and symbols stay, as characters of the words they touch ("n°5", "d'art", "10x15cm,"); only whitespace
   * and control characters separate words. Character n-grams then see them, as scikit-learn's char_wb does: the peer
   * recipe loses 0.008 of weighted F1 (5-fold CV, 0.7865 → 0.7784) when punctuation is stripped first.
   */
  keepPunctuation?: boolean;
}

const TAG = /<[^>]*>/g;
const COMBINING_MARK = /[\u0300-\u036f]/g;
const NON_WORD = /[^\p{L}\p{N}]+/gu;
const SEPARATORS = /[\s\p{Cc}]+/gu;
const NON_ASCII = /[\u0080-\uffff]/;
const DIGITS = /\p{N}+/gu;

/**
 * Canonical form of a merchant text for feature extraction: HTML tags and entities removed, lower case, accents
 * stripped, long numbers collapsed, words separated by single spaces with no punctuation.
 * Entities are decoded twice because some listings are double-encoded ("&amp;eacute;").
 */
export function normalizeText(raw: string, options: NormalizeOptions = {}): string {
  return fold(
    withoutMarkup(raw, options.maxLength ?? Infinity),
    options.maxDigits ?? 4,
    options.keepPunctuation ?? false,
  );
}

/** The first maxLength characters of a text, HTML tags and entities removed. */
function withoutMarkup(raw: string, maxLength: number): string {
  let text = raw.length > maxLength ? raw.slice(0, maxLength) : raw;
  if (text.includes('<')) text = text.replace(TAG, ' ');
  if (text.includes('&')) text = decodeHtmlEntities(decodeHtmlEntities(text)).replace(TAG, ' ');
  return text;
}

/**
 * Lower case, accents stripped, words of letters and digits (and punctuation, when kept) separated by single spaces,
 * long numbers collapsed.
 */
function fold(text: string, maxDigits: number, keepPunctuation: boolean): string {
  text = text.toLowerCase();
  // NFD is the slowest step and a no-op on plain ASCII, which most titles are.
  if (NON_ASCII.test(text)) text = text.normalize('NFD').replace(COMBINING_MARK, '');
  return text
    .replace(keepPunctuation ? SEPARATORS : NON_WORD, ' ')
    .replace(DIGITS, (digits) => (digits.length > maxDigits ? '0' : digits))
    .trim();
}

/** A normalised text as UTF-16 code units (what feature hashing reads), reused from one text to the next. */
export class NormalizedCodes {
  codes = new Uint16Array(1024);
  length = 0;

  reserve(size: number): void {
    if (this.codes.length < size) this.codes = new Uint16Array(size * 2);
  }
}

/**
 * normalizeText(raw, options) into `out`, as code units. Texts made of the characters in FOLDING (Latin scripts,
 * Greek, Cyrillic, punctuation: nearly all listings) are folded in one pass over a per-character table instead
 * of five passes of string operations; any other character sends the text through normalizeText itself.
 */
export function normalizeTextInto(
  raw: string,
  options: NormalizeOptions,
  out: NormalizedCodes,
): NormalizedCodes {
  const text = withoutMarkup(raw, options.maxLength ?? Infinity);
  const maxDigits = options.maxDigits ?? 4;
  const keepPunctuation = options.keepPunctuation ?? false;
  if (!foldInto(text, maxDigits, keepPunctuation, out)) {
    const folded = fold(text, maxDigits, keepPunctuation);
    out.reserve(folded.length);
    for (let i = 0; i < folded.length; i++) out.codes[i] = folded.charCodeAt(i);
    out.length = folded.length;
  }
  return out;
}

/** Punctuation and symbols: a separator, or a character of its word when punctuation is kept. */
const OTHER = 0;
const LETTER = 1;
const DIGIT = 2;
/** Whitespace and control characters: always a separator. */
const BLANK = 3;
const SPACE = 0x20;
const ZERO = 0x30;

/**
 * What `fold` makes of each character below `size`, taken on its own: the code units it becomes (lower case,
 * decomposed, accents dropped: none for a lone accent, two for 'ŉ'), each a letter, a digit or other.
 * A character is left out (start -1) where folding it alone could differ from folding it in a text: capital
 * sigma (its lower case depends on the next letter) and any character that leaves a combining mark behind (NFD
 * would reorder adjacent marks).
 */
interface Folding {
  size: number;
  /** Output of character c: codes[start[c], start[c + 1]), or start[c] = -1 when it is left out. */
  start: Int32Array;
  end: Int32Array;
  codes: Uint16Array;
  kinds: Uint8Array;
  /** The most code units one character becomes. */
  maxExpansion: number;
}

let folding: Folding | undefined;

function buildFolding(size: number): Folding {
  const start = new Int32Array(size);
  const end = new Int32Array(size);
  const codes: number[] = [];
  const kinds: number[] = [];
  let maxExpansion = 1;
  for (let c = 0; c < size; c++) {
    let folded = String.fromCharCode(c).toLowerCase();
    if (NON_ASCII.test(folded)) folded = folded.normalize('NFD').replace(COMBINING_MARK, '');
    const unsafe =
      c === 0x3a3 || /\p{M}/u.test(folded) || /[\ud800-\udfff]/.test(String.fromCharCode(c) + folded);
    if (unsafe) {
      start[c] = end[c] = -1;
      continue;
    }
    start[c] = codes.length;
    for (const char of folded) {
      codes.push(char.charCodeAt(0));
      kinds.push(
        /\p{N}/u.test(char) ? DIGIT : /\p{L}/u.test(char) ? LETTER : /[\s\p{Cc}]/u.test(char) ? BLANK : OTHER,
      );
    }
    end[c] = codes.length;
    maxExpansion = Math.max(maxExpansion, folded.length);
  }
  return {
    size,
    start,
    end,
    codes: Uint16Array.from(codes),
    kinds: Uint8Array.from(kinds),
    maxExpansion,
  };
}

/** Up to the end of Letterlike Symbols: Latin, Greek, Cyrillic, general punctuation, currency signs. */
const FOLDING_SIZE = 0x2150;

/** `fold` through the per-character table; false (out unspecified) when the text has a character outside it. */
function foldInto(text: string, maxDigits: number, keepPunctuation: boolean, out: NormalizedCodes): boolean {
  folding ??= buildFolding(FOLDING_SIZE);
  const { size, start, end, codes: folded, kinds, maxExpansion } = folding;
  out.reserve(text.length * maxExpansion);
  const codes = out.codes;
  let length = 0;
  let pendingSpace = false;
  let digitsFrom = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= size || start[c] < 0) return false;
    for (let p = start[c]; p < end[c]; p++) {
      const kind = kinds[p];
      if (kind !== DIGIT && digitsFrom >= 0) {
        if (length - digitsFrom > maxDigits) {
          codes[digitsFrom] = ZERO;
          length = digitsFrom + 1;
        }
        digitsFrom = -1;
      }
      if (kind === BLANK || (kind === OTHER && !keepPunctuation)) {
        pendingSpace = length > 0;
        continue;
      }
      if (pendingSpace) {
        codes[length++] = SPACE;
        pendingSpace = false;
      }
      if (kind === DIGIT && digitsFrom < 0) digitsFrom = length;
      codes[length++] = folded[p];
    }
  }
  if (digitsFrom >= 0 && length - digitsFrom > maxDigits) {
    codes[digitsFrom] = ZERO;
    length = digitsFrom + 1;
  }
  out.length = length;
  return true;
}
