import { sampleForReview, titleKey, uncertaintyMargin } from './review-sampling.util';

describe('review sampling', () => {
  it('draws the audit sample from all traffic and sends every undecided or review answer to review', () => {
    expect(sampleForReview('accept', 0.02, 0.01)).toEqual({
      reason: 'audit',
      priority: 0,
      samplingProbability: 0.02,
    });
    expect(sampleForReview('review', 0.02, 0.01)).toMatchObject({ reason: 'audit' });
    expect(sampleForReview('accept', 0.02, 0.5)).toBeUndefined();
    expect(sampleForReview('review', 0.02, 0.5)).toEqual({
      reason: 'review',
      priority: 1,
      samplingProbability: 1,
    });
    expect(sampleForReview(undefined, 0, 0)).toMatchObject({ reason: 'review' });
  });

  it('measures uncertainty as the margin between the two most probable classes, to the hundredth', () => {
    expect(
      uncertaintyMargin([
        { prdtypecode: 1, probability: 0.5 },
        { prdtypecode: 2, probability: 0.3 },
      ]),
    ).toBe(0.2);
    expect(
      uncertaintyMargin([
        { prdtypecode: 2, probability: 0.3 },
        { prdtypecode: 1, probability: 0.344 },
      ]),
    ).toBe(0.04);
    expect(uncertaintyMargin([{ prdtypecode: 1, probability: 0.9 }])).toBe(0.9);
  });

  it('gives near-duplicate titles one key, and different listings different keys', () => {
    const key = titleKey('Lot de 3 stylos BLEUS', 'a');
    expect(titleKey('stylos bleus - lot de 10', 'b')).toBe(key);
    expect(titleKey('<b>Lot</b> de stylos bleus, bleus', 'c')).toBe(key);
    expect(titleKey('Lot de 3 stylos rouges', 'd')).not.toBe(key);
    expect(titleKey('Chaise de jardin pliante', 'e')).toBe(titleKey('chaise de jardin PLIANTE', 'f'));
    expect(titleKey('Élégante lampe', 'g')).toBe(titleKey('elegante lampe', 'h'));
  });

  it('never collapses listings that have no words in their title', () => {
    expect(titleKey('', 'a')).not.toBe(titleKey('', 'b'));
    expect(titleKey('123 - 456', 'a')).toBe(titleKey('', 'a'));
  });
});
