import { TextFeatureExtractor } from './text-features.extractor';

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

  it('round-trips through toJSON/fromJSON with identical output', () => {
    const { params, arrays } = extractor.toJSON();
    const restored = TextFeatureExtractor.fromJSON(JSON.parse(JSON.stringify(params)), {
      buckets: arrays.buckets.slice(),
      idf: arrays.idf.slice(),
    });
    expect(restored.transform(texts)).toEqual(extractor.transform(texts));
  });
});
