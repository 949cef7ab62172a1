import { normalizeText } from './text.normalizer';

describe('normalizeText', () => {
  it('strips tags, decodes entities (even double-encoded), lowercases and removes accents', () => {
    expect(normalizeText('<p>L&#39;Été <b>Très</b>&nbsp;Chaud</p><br/>')).toBe('l ete tres chaud');
    expect(normalizeText('cr&amp;eacute;pe &lt;b&gt;bio&lt;/b&gt;')).toBe('crepe bio');
  });

  it('collapses punctuation and whitespace into single spaces', () => {
    expect(normalizeText('  Jeu -- PS4 !!\n\t(Neuf)  ')).toBe('jeu ps4 neuf');
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
