import { SeededRandom } from '../runtime/random.util';
import { NormalizedCodes, normalizeText, normalizeTextInto } from './text.normalizer';

describe('normalizeText', () => {
  it('strips tags, decodes entities (even double-encoded), lowercases and removes accents', () => {
    expect(normalizeText('<p>L&#39;Été <b>Très</b>&nbsp;Chaud</p><br/>')).toBe('l ete tres chaud');
    expect(normalizeText('cr&amp;eacute;pe &lt;b&gt;bio&lt;/b&gt;')).toBe('crepe bio');
  });

  it('collapses punctuation and whitespace into single spaces', () => {
    expect(normalizeText('  Jeu -- PS4 !!\n\t(Neuf)  ')).toBe('jeu ps4 neuf');
  });

  it('keeps punctuation inside words when asked, still separating words by single spaces', () => {
    expect(normalizeText("  Jeu -- PS4 !!\n\t(Neuf) N°5, l'Été  ", { keepPunctuation: true })).toBe(
      "jeu -- ps4 !! (neuf) n°5, l'ete",
    );
    expect(normalizeText('Réf. 3760123456789/12', { keepPunctuation: true, maxDigits: 2 })).toBe('ref. 0/12');
  });

  it('keeps short numbers and collapses long ones', () => {
    expect(normalizeText('Lot de 12 cahiers A5 2019 réf 3760123456789')).toBe(
      'lot de 12 cahiers a5 2019 ref 0',
    );
    expect(normalizeText('12345', { maxDigits: 2 })).toBe('0');
  });

  it('truncates long input and handles empty text', () => {
    expect(normalizeText('abcdef ghi', { maxLength: 3 })).toBe('abc');
    expect(normalizeText('')).toBe('');
  });
});

describe('normalizeTextInto', () => {
  const CHARS = Array.from(
    'aAzZ09 ²³¼٣०-_.,;:!?"\'()<>/&#éÉèàçÇñÑßæøÅŒœİıŉǰǅΣσςΑάΐЁёЙй\u0301\u0308\u0327\u0483\u05b0\u0591ﬁ™€…–\u00a0\t\nΩKÅⅫ①\u{1d400}\u{1f600}',
  );
  const PIECES = ['&amp;', '&eacute;', '&#233;', '&Sigma;', '<b>', '</p>', '&nbsp;', '12345', ' '];

  it('gives the code units of normalizeText, whatever the characters', () => {
    const rng = new SeededRandom(3);
    const out = new NormalizedCodes();
    for (let i = 0; i < 5000; i++) {
      let text = '';
      const length = rng.int(25);
      for (let k = 0; k < length; k++)
        text += rng.next() < 0.1 ? PIECES[rng.int(PIECES.length)] : CHARS[rng.int(CHARS.length)];
      for (const options of [
        {},
        { maxDigits: 20, maxLength: 2000 },
        { maxDigits: 0, maxLength: 6 },
        { maxDigits: 2, keepPunctuation: true },
      ]) {
        normalizeTextInto(text, options, out);
        expect(String.fromCharCode(...out.codes.subarray(0, out.length))).toBe(normalizeText(text, options));
      }
    }
  });
});
