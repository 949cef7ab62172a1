import { SparseRowBuffer, TextFeatureExtractor } from './text-features.extractor';
import { HashedTerms } from './text-hashing.util';
import { runNow } from '../runtime/sliced-work.util';

const texts = [
  { designation: 'Piscine tubulaire ronde', description: '<p>Piscine hors sol, bâche incluse</p>' },
  { designation: 'Pompe de filtration piscine', description: '' },
  { designation: 'Jeu PS4 Fifa', description: 'Jeu vidéo de football' },
  { designation: 'Manette PS4 sans fil', description: 'Manette pour console PS4' },
];

describe('TextFeatureExtractor', () => {
  const extractor = TextFeatureExtractor.fit(texts, { hashBits: 16, minDf: 1 });

  it('produces L2-normalised, weighted field blocks', () => {
    const [row] = extractor.transform([{ designation: 'Piscine ronde', description: '' }]);
    expect(row.indices).toBeInstanceOf(Int32Array);
    expect(row.values).toBeInstanceOf(Float32Array);
    expect(row.indices.length).toBe(row.values.length);
    // Title words and title chars are two blocks of weight 1 each: squared norm 1 + 1.
    const squares = row.values.reduce((sum, v) => sum + v * v, 0);
    expect(squares).toBeCloseTo(2, 4);
    expect(Math.max(...row.indices)).toBeLessThan(extractor.numFeatures);
  });

  it('renumbers its columns by frequency and back, weighing each feature as before', () => {
    const order = runNow(extractor.frequencyOrder())!;
    const { buckets, idf } = extractor.toJSON().arrays;
    expect(Array.from(order).sort((a, b) => a - b)).toEqual(Array.from(buckets.keys()));
    for (let i = 1; i < order.length; i++) expect(idf[order[i]]).toBeGreaterThanOrEqual(idf[order[i - 1]]);
    const reordered = runNow(extractor.reordered(order));
    expect(runNow(reordered.frequencyOrder())).toBeUndefined();
    const back = runNow(reordered.reordered(reordered.inBucketOrder())).toJSON().arrays;
    expect(back.buckets).toEqual(buckets);
    expect(back.idf).toEqual(idf);
    const text = { designation: 'Piscine ronde PS4', description: 'Jeu de piscine' };
    const [row] = extractor.transform([text]);
    const [renumbered] = reordered.transform([text]);
    expect(Array.from(renumbered.indices, (column) => order[column])).toEqual(Array.from(row.indices));
    expect(renumbered.values).toEqual(row.values);
  });

  it('drops n-grams never seen in training and handles empty text', () => {
    const [empty, unseen] = extractor.transform([
      { designation: '', description: '' },
      { designation: 'zzqx', description: '' },
    ]);
    expect(empty.indices.length).toBe(0);
    expect(unseen.indices.length).toBeLessThan(4);
  });

  it('keeps buckets below minDf out of the vocabulary', () => {
    const strict = TextFeatureExtractor.fit(texts, { hashBits: 16, minDf: 2 });
    expect(strict.numFeatures).toBeLessThan(extractor.numFeatures);
  });

  it('keeps every title word with titleWordMinDf 1, still dropping what else was seen once', () => {
    const options = { hashBits: 16, minDf: 2, wordMax: 1, charMin: 5, charMax: 5 };
    const strict = TextFeatureExtractor.fit(texts, options);
    const titleWords = TextFeatureExtractor.fit(texts, { ...options, titleWordMinDf: 1 });
    const columns = (extractor: TextFeatureExtractor, text: { designation: string; description: string }) =>
      extractor.transform([text])[0].indices.length;
    // "tubulaire" is in one title only: kept as a title word, not as a character 5-gram or a description word.
    expect(columns(strict, { designation: 'tubulaire', description: '' })).toBe(0);
    expect(columns(titleWords, { designation: 'tubulaire', description: '' })).toBe(1);
    expect(columns(titleWords, { designation: '', description: 'tubulaire incluse' })).toBe(0);
    // Every title word of the training texts is a column; so is everything seen twice, as before.
    expect(titleWords.numFeatures).toBe(strict.numFeatures + 10);
  });

  it('round-trips through toJSON/fromJSON with identical output', () => {
    const { params, arrays } = extractor.toJSON();
    const restored = TextFeatureExtractor.fromJSON(JSON.parse(JSON.stringify(params)), {
      buckets: arrays.buckets.slice(),
      idf: arrays.idf.slice(),
    });
    expect(restored.transform(texts)).toEqual(extractor.transform(texts));
  });

  it('weighs shared hashed terms into the same features as transform, in first-occurrence order', () => {
    const terms = new HashedTerms();
    const row = new SparseRowBuffer();
    for (const text of texts) {
      const [expected] = extractor.transform([text]);
      extractor.weigh(extractor.hasher.hash(text, terms), row);
      const sorted = (indices: Int32Array, values: Float32Array, length: number) =>
        Array.from({ length }, (_, j) => ({ index: indices[j], value: values[j] })).sort(
          (a, b) => a.index - b.index,
        );
      const got = sorted(row.indices, row.values, row.length);
      const want = sorted(expected.indices, expected.values, expected.indices.length);
      expect(got.map((e) => e.index)).toEqual(want.map((e) => e.index));
      // A block's norm is summed in another order: equal to float32 rounding.
      got.forEach((e, j) => expect(e.value).toBeCloseTo(want[j].value, 6));
    }
  });

  it('weighs a text for several extractors at once through a shared index, as each would alone', () => {
    const others = TextFeatureExtractor.fit(texts.slice(1), { hashBits: 16, minDf: 1 });
    const weighted = TextFeatureExtractor.fit(texts, {
      hashBits: 16,
      minDf: 1,
      weights: { titleWord: 2, titleChar: 0.5, descriptionWord: 1, descriptionChar: 0 },
    });
    const group = [extractor, others, weighted];
    const index = runNow(TextFeatureExtractor.sharedIndex(group));
    const terms = new HashedTerms();
    const rows = group.map(() => new SparseRowBuffer());
    const alone = new SparseRowBuffer();
    // The index appends each text's row after the previous ones.
    for (const text of [...texts, { designation: 'Piscine PS4 inconnue', description: 'zzz' }]) {
      const starts = rows.map((row) => row.length);
      index.weigh(extractor.hasher.hash(text, terms), rows);
      group.forEach((member, m) => {
        member.weigh(terms, alone);
        const { indices, values, length } = rows[m];
        expect(length - starts[m]).toBe(alone.length);
        expect(Array.from(indices.subarray(starts[m], length))).toEqual(
          Array.from(alone.indices.subarray(0, alone.length)),
        );
        expect(Array.from(values.subarray(starts[m], length))).toEqual(
          Array.from(alone.values.subarray(0, alone.length)),
        );
      });
    }
    const merged = TextFeatureExtractor.fit(texts, { hashBits: 16, minDf: 1, mergedFields: true });
    expect(() => TextFeatureExtractor.sharedIndex([extractor, merged])).toThrow(/hash texts alike/);
  });
});
