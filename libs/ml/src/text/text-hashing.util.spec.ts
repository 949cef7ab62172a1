import { LINEAR_VIEWS } from './linear-svm.classifier';
import { DEFAULT_TEXT_FEATURE_OPTIONS, TextFeatureExtractor } from './text-features.extractor';
import { HashedTerms, TextHasher } from './text-hashing.util';

const TEXTS = [
  {
    designation: 'Piscine tubulaire ronde 3,05 x 0,76 m',
    description: '<p>Piscine hors sol, b&acirc;che incluse. R&eacute;f 3760123456789</p>',
  },
  {
    designation: 'Jeu PS4 FIFA 2019',
    description: 'Jeu vidéo de football ' + 'très '.repeat(60) + 'bon état',
  },
  { designation: 'ʼNoël ΣΟΦΙΑ İstanbul ²³', description: 'ab' },
  { designation: '', description: 'Manette sans fil pour console PS4 - noire' },
];

const blocksOf = (terms: HashedTerms) =>
  Array.from({ length: terms.blocks }, (_, b) => {
    const pairs: [number, number][] = [];
    for (let i = terms.blockStart[b]; i < terms.blockStart[b + 1]; i++)
      pairs.push([terms.buckets[i], terms.counts[i]]);
    return pairs;
  });

describe('TextHasher', () => {
  it('hashes the same terms in first-occurrence or ascending order', () => {
    for (const view of [
      DEFAULT_TEXT_FEATURE_OPTIONS,
      { ...DEFAULT_TEXT_FEATURE_OPTIONS, ...LINEAR_VIEWS.merged },
      { ...DEFAULT_TEXT_FEATURE_OPTIONS, ...LINEAR_VIEWS.listing },
    ]) {
      const hasher = new TextHasher(view);
      for (const text of TEXTS) {
        const unsorted = blocksOf(hasher.hash(text, new HashedTerms()));
        const sorted = blocksOf(hasher.hash(text, new HashedTerms(), true));
        expect(sorted.length).toBe(hasher.blockCount);
        sorted.forEach((block, b) => {
          expect(block.map(([bucket]) => bucket)).toEqual(
            block.map(([bucket]) => bucket).sort((x, y) => x - y),
          );
          expect(block).toEqual([...unsorted[b]].sort((x, y) => x[0] - y[0]));
        });
      }
    }
  });

  it('counts the title among the description blocks of the listing view', () => {
    const listing = new TextHasher({ ...DEFAULT_TEXT_FEATURE_OPTIONS, ...LINEAR_VIEWS.listing });
    const titleOnly = { designation: 'Bache piscine', description: '' };
    const [, , descriptionWords, descriptionChars] = blocksOf(
      listing.hash(titleOnly, new HashedTerms(), true),
    );
    const [, , alsoWords, alsoChars] = blocksOf(
      listing.hash({ designation: '', description: 'Bache piscine' }, new HashedTerms(), true),
    );
    expect(descriptionWords).toEqual(alsoWords);
    expect(descriptionChars).toEqual(alsoChars);
    expect(descriptionWords.length).toBeGreaterThan(0);
    const blocked = new TextHasher({
      ...DEFAULT_TEXT_FEATURE_OPTIONS,
      ...LINEAR_VIEWS.listing,
      titleInDescription: false,
    });
    expect(blocksOf(blocked.hash(titleOnly, new HashedTerms()))[2]).toEqual([]);
    expect(blocked.key).not.toBe(listing.key);
  });

  it('keeps punctuation in character n-grams only, when asked', () => {
    const options = { ...DEFAULT_TEXT_FEATURE_OPTIONS, charMin: 2, charMax: 2 };
    const stripped = new TextHasher(options);
    const kept = new TextHasher({ ...options, keepPunctuation: true });
    const text = { designation: "Figurine n°5 l'ete", description: 'Lot: 2' };
    const [strippedWords, strippedChars, strippedDescWords] = blocksOf(
      stripped.hash(text, new HashedTerms(), true),
    );
    const [keptWords, keptChars, keptDescWords, keptDescChars] = blocksOf(
      kept.hash(text, new HashedTerms(), true),
    );
    expect(keptWords).toEqual(strippedWords);
    expect(keptDescWords).toEqual(strippedDescWords);
    // " n°5 " gives " n", "n°", "°5", "5 " where "n 5" gave " n", "n ", " 5", "5 "; " l'ete " one bigram more
    // than " l ete ": "l'", "'e" against "l ", " e".
    expect(keptChars.length).toBe(strippedChars.length);
    const same = (block: [number, number][]) => new Set(block.map(([bucket]) => bucket));
    const shared = [...same(keptChars)].filter((bucket) => same(strippedChars).has(bucket));
    expect(shared.length).toBeLessThan(keptChars.length);
    expect(keptDescChars.length).toBe(4 + 3);
    expect(kept.key).not.toBe(stripped.key);
  });

  it('counts repeated n-grams and grows past its initial capacity', () => {
    const hasher = new TextHasher({ ...DEFAULT_TEXT_FEATURE_OPTIONS, hashBits: 24 });
    const words = Array.from({ length: 3000 }, (_, i) => `w${i.toString(36)}`).join(' ');
    const terms = hasher.hash({ designation: `${words} ${words}`, description: '' }, new HashedTerms());
    const [titleWords] = blocksOf(terms);
    // 3000 words and 2999 bigrams seen twice, plus the bigram across the seam once (give or take a hash collision).
    expect(titleWords.length).toBeGreaterThan(5995);
    expect(titleWords.length).toBeLessThanOrEqual(6000);
    expect(titleWords.filter(([, count]) => count === 2).length).toBeGreaterThan(5990);
  });

  it('is shared by extractors that differ only in how they weigh the buckets', () => {
    const key = (options: object) => new TextHasher({ ...DEFAULT_TEXT_FEATURE_OPTIONS, ...options }).key;
    expect(
      key({ minDf: 1, weights: { titleWord: 2, titleChar: 1, descriptionWord: 1, descriptionChar: 1 } }),
    ).toBe(key({}));
    expect(key(LINEAR_VIEWS.blocked)).toBe(key({}));
    expect(key(LINEAR_VIEWS.merged)).not.toBe(key({}));
    expect(key({ maxDigits: 5 })).not.toBe(key({}));
  });

  it('gives the rows the extractor has always given (fingerprints from the string-based hashing)', () => {
    const expected: Record<string, { nnz: number[]; fingerprint: number }> = {
      default: { nnz: [164, 105, 59, 91], fingerprint: 641303011 },
      merged: { nnz: [249, 158, 85, 126], fingerprint: 2021724665 },
    };
    for (const [name, view] of Object.entries({ default: {}, merged: LINEAR_VIEWS.merged })) {
      const extractor = TextFeatureExtractor.fit(TEXTS, { ...view, minDf: 1 });
      const { buckets } = extractor.toJSON().arrays;
      const rows = extractor.transform(TEXTS);
      let fingerprint = 0;
      for (const row of rows) {
        row.indices.forEach((column, j) => {
          fingerprint = (Math.imul(fingerprint, 31) + buckets[column] + Math.round(row.values[j] * 1e6)) | 0;
        });
      }
      expect({ nnz: rows.map((row) => row.indices.length), fingerprint }).toEqual(expected[name]);
    }
  });
});
