import { decodeHtmlEntities } from './html-entities';

export interface NormalizeOptions {
  /** Digit runs longer than this become a single '0' (keeps sizes such as "a4" or "12" but not EANs or prices). */
  maxDigits?: number;
  /** Input beyond this many characters is ignored: long descriptions add cost, not signal. */
  maxLength?: number;
}

const TAG = /<[^>]*>/g;
const COMBINING_MARK = /[\u0300-\u036f]/g;
const NON_WORD = /[^\p{L}\p{N}]+/gu;
const NON_ASCII = /[\u0080-\uffff]/;
const DIGITS = /\p{N}+/gu;

/**
 * Canonical form of a merchant text for feature extraction: HTML tags and entities removed, lower case, accents
 * stripped, long numbers collapsed, words separated by single spaces with no punctuation.
 * Entities are decoded twice because some listings are double-encoded ("&amp;eacute;").
 */
export function normalizeText(raw: string, options: NormalizeOptions = {}): string {
  const maxDigits = options.maxDigits ?? 4;
  const maxLength = options.maxLength ?? Infinity;
  let text = raw.length > maxLength ? raw.slice(0, maxLength) : raw;
  text = text.replace(TAG, ' ');
  if (text.includes('&')) text = decodeHtmlEntities(decodeHtmlEntities(text)).replace(TAG, ' ');
  text = text.toLowerCase();
  // NFD is the slowest step and a no-op on plain ASCII, which most titles are.
  if (NON_ASCII.test(text)) text = text.normalize('NFD').replace(COMBINING_MARK, '');
  return text
    .replace(NON_WORD, ' ')
    .replace(DIGITS, (digits) => (digits.length > maxDigits ? '0' : digits))
    .trim();
}
