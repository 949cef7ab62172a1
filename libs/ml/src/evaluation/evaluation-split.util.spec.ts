import type { ProductExample } from '../data/product.types';
import type { TrainingData } from '../fitting/training.types';
import { DEFAULT_EVALUATION_SPLIT, designationKey, splitForEvaluation } from './evaluation-split.util';

/** A digit-free word for each number (designation keys ignore digits). */
const word = (i: number): string =>
  (i >= 26 ? word(Math.floor(i / 26) - 1) : '') + String.fromCharCode(97 + (i % 26));

const CLASSES = [10, 40, 50, 2583];

function product(i: number, overrides: Partial<ProductExample> = {}): ProductExample {
  return {
    designation: `lampe ${word(i)} modele`,
    description: '',
    label: CLASSES[i % CLASSES.length],
    productId: `p${i}`,
    imageId: `i${i}`,
    origin: { file: 'products.csv', row: i + 2 },
    ...overrides,
  };
}

function imageOnly(i: number, overrides: Partial<ProductExample> = {}): ProductExample {
  return { ...product(i), designation: '', origin: { file: 'image_only.csv', row: i + 2 }, ...overrides };
}

function extra(i: number, designation = `extra ${word(i)} texte`): ProductExample {
  return {
    designation,
    description: '',
    label: CLASSES[i % CLASSES.length],
    origin: { file: 'extra_text_only.csv', row: i + 2 },
  };
}

function dataset(
  products: ProductExample[],
  images: ProductExample[] = [],
  extraText: ProductExample[] = [],
) {
  return { products, imageOnly: images, extraText, categoryNames: {} } satisfies TrainingData;
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => from + k);
const sideOf = (split: ReturnType<typeof splitForEvaluation>) => {
  const evaluated = new Set([...split.evaluation.products, ...split.evaluation.imageOnly]);
  return (row: ProductExample) => (evaluated.has(row) ? 'evaluation' : 'train');
};

describe('designationKey', () => {
  it('ignores markup, case, accents and digits, so variants of one listing share a key', () => {
    expect(designationKey('Bâche à bulles <b>4m x 13m</b>')).toBe(designationKey('bache a bulles 2m x 5m'));
    expect(designationKey('Bâche à bulles 4m x 13m')).not.toBe(designationKey('Bâche à hivernage 4m x 13m'));
  });

  it('keeps the digits of a title made only of digits', () => {
    expect(designationKey('1984')).toBe('1984');
    expect(designationKey('1984')).not.toBe(designationKey('2001'));
  });
});

describe('splitForEvaluation', () => {
  const base = dataset(
    range(0, 3000).map((i) => product(i)),
    range(3000, 4000).map((i) => imageOnly(i)),
    range(0, 500).map((i) => extra(i)),
  );

  it('puts every base row on exactly one side, about `fraction` of the groups in evaluation', () => {
    const split = splitForEvaluation(base);
    expect(split.train.products.length + split.evaluation.products.length).toBe(3000);
    expect(split.train.imageOnly.length + split.evaluation.imageOnly.length).toBe(1000);
    const share = split.summary.groups.evaluation / split.summary.groups.total;
    expect(split.summary.groups.total).toBe(4000);
    expect(share).toBeGreaterThan(0.13);
    expect(share).toBeLessThan(0.17);
    for (const code of CLASSES) {
      const count = split.summary.evaluation.classCounts[code];
      expect(count / 1000).toBeGreaterThan(0.1);
      expect(count / 1000).toBeLessThan(0.2);
    }
  });

  it('gives the same split and hash for the same data in any order, and another for other options', () => {
    const first = splitForEvaluation(base);
    const shuffled = dataset(
      [...base.products].reverse(),
      [...base.imageOnly].reverse(),
      [...base.extraText].reverse(),
    );
    const again = splitForEvaluation(shuffled);
    expect(again.splitHash).toBe(first.splitHash);
    expect(new Set(again.evaluation.products)).toEqual(new Set(first.evaluation.products));
    expect(first.splitHash).toMatch(/^[0-9a-f]{64}$/);
    expect(splitForEvaluation(base, { ...DEFAULT_EVALUATION_SPLIT, salt: 'other' }).splitHash).not.toBe(
      first.splitHash,
    );
    expect(splitForEvaluation(base, { ...DEFAULT_EVALUATION_SPLIT, fraction: 0.2 }).splitHash).not.toBe(
      first.splitHash,
    );
  });

  it('names the evaluation set: a change to an evaluation row changes the hash, one to a training row does not', () => {
    const split = splitForEvaluation(base);
    const evaluated = split.evaluation.products[0];
    const trained = split.train.products[0];
    const relabel = (target: ProductExample) =>
      dataset(
        base.products.map((row) => (row === target ? { ...row, label: 2905 } : row)),
        base.imageOnly,
        base.extraText,
      );
    expect(splitForEvaluation(relabel(evaluated)).splitHash).not.toBe(split.splitHash);
    expect(splitForEvaluation(relabel(trained)).splitHash).toBe(split.splitHash);
  });

  it('never moves existing rows when rows are added', () => {
    const before = splitForEvaluation(base);
    const grown = dataset(
      [...base.products, ...range(5000, 6000).map((i) => product(i))],
      [...base.imageOnly, ...range(6000, 6500).map((i) => imageOnly(i))],
      [...base.extraText, ...range(500, 2000).map((i) => extra(i))],
    );
    const after = splitForEvaluation(grown);
    const sideBefore = sideOf(before);
    const sideAfter = sideOf(after);
    for (const row of [...base.products, ...base.imageOnly]) expect(sideAfter(row)).toBe(sideBefore(row));
    expect(after.evaluation.products.length).toBeGreaterThan(before.evaluation.products.length);
  });

  it('leaves the evaluation set and its hash unchanged when only training-only rows (feedback) are added', () => {
    const before = splitForEvaluation(base);
    const after = splitForEvaluation({
      ...base,
      extraText: [...base.extraText, ...range(500, 900).map((i) => extra(i))],
    });
    expect(after.splitHash).toBe(before.splitHash);
    expect(after.evaluation).toEqual(before.evaluation);
    expect(after.train.extraText).toHaveLength(900);
  });

  it('keeps near-duplicate titles, shared product ids and shared image ids on one side', () => {
    // 300 families of four linked rows: two titles differing only in digits, an image-only row with the first
    // row's productid, and a row with another title that shares the image-only row's imageid.
    const products: ProductExample[] = [];
    const images: ProductExample[] = [];
    const families: ProductExample[][] = [];
    for (let f = 0; f < 300; f++) {
      const title = `tente pliante ${word(f)}`;
      const a = product(4 * f, { designation: `${title} 3 x 4m50`, productId: `f${f}a`, imageId: `f${f}a` });
      const b = product(4 * f + 1, {
        designation: `${title} 4 x 4m`,
        productId: `f${f}b`,
        imageId: `f${f}b`,
      });
      const c = imageOnly(4 * f + 2, { productId: `f${f}a`, imageId: `f${f}c` });
      const d = product(4 * f + 3, {
        designation: `autre ${word(f)} titre`,
        productId: `f${f}d`,
        imageId: `f${f}c`,
      });
      products.push(a, b, d);
      images.push(c);
      families.push([a, b, c, d]);
    }
    const split = splitForEvaluation(dataset(products, images));
    const side = sideOf(split);
    expect(split.summary.groups.total).toBe(300);
    expect(split.summary.groups.largest).toBe(4);
    for (const family of families) expect(new Set(family.map(side)).size).toBe(1);
    expect(families.filter((family) => side(family[0]) === 'evaluation').length).toBeGreaterThan(20);
  });

  it('never evaluates training-only rows, and withholds the ones that twin an evaluation row', () => {
    const split = splitForEvaluation(base);
    const evaluatedTitle = split.evaluation.products[0].designation;
    const trainedTitle = split.train.products[0].designation;
    const twins = [extra(9000, evaluatedTitle.toUpperCase()), extra(9001, `${evaluatedTitle} 2`)];
    const harmless = extra(9002, trainedTitle);
    const withTwins = splitForEvaluation({ ...base, extraText: [...base.extraText, ...twins, harmless] });
    const evaluated = [...withTwins.evaluation.products, ...withTwins.evaluation.imageOnly];
    for (const row of withTwins.train.extraText.concat(twins)) expect(evaluated).not.toContain(row);
    expect(withTwins.summary.withheldTwins).toBe(2);
    expect(withTwins.train.extraText).toContain(harmless);
    expect(withTwins.train.extraText).not.toContain(twins[0]);
    expect(withTwins.splitHash).toBe(split.splitHash);
  });

  it('trains on rows it cannot group or score', () => {
    const unusable = [
      product(1, { designation: '', productId: '', imageId: '' }),
      product(2, { label: undefined }),
    ];
    const split = splitForEvaluation(dataset(unusable));
    expect(split.train.products).toEqual(unusable);
    expect(split.summary.ungrouped).toBe(2);
  });

  it('refuses a fraction outside (0, 1) and an empty salt', () => {
    expect(() => splitForEvaluation(base, { fraction: 0, salt: 'x' })).toThrow('between 0 and 1');
    expect(() => splitForEvaluation(base, { fraction: 1.5, salt: 'x' })).toThrow('between 0 and 1');
    expect(() => splitForEvaluation(base, { fraction: 0.15, salt: '' })).toThrow('salt');
  });
});
