import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rakutenDataDir } from './data-location.util';
import {
  DEFAULT_CATEGORY_NAMES,
  loadCategoryNames,
  parseProductTypeCode,
  PRODUCT_TYPE_CODES,
} from './product-type.codes';

describe('product types', () => {
  it('lists the 27 codes in ascending order, each with a default name', () => {
    expect(PRODUCT_TYPE_CODES).toHaveLength(27);
    expect([...PRODUCT_TYPE_CODES].sort((a, b) => a - b)).toEqual(PRODUCT_TYPE_CODES);
    expect(Object.keys(DEFAULT_CATEGORY_NAMES).map(Number)).toEqual(PRODUCT_TYPE_CODES);
    expect(DEFAULT_CATEGORY_NAMES[2583]).toBe('Piscines et accessoires');
  });

  it('accepts known codes and rejects others with file, row and value', () => {
    expect(parseProductTypeCode('2583', 'y.csv', 2)).toBe(2583);
    expect(() => parseProductTypeCode('12x', 'y.csv', 17)).toThrow(
      'y.csv row 17: prdtypecode "12x" is not a whole number',
    );
    expect(() => parseProductTypeCode('', 'y.csv', 3)).toThrow(
      'y.csv row 3: prdtypecode "" is not a whole number',
    );
    expect(() => parseProductTypeCode('11', 'y.csv', 4)).toThrow(
      'y.csv row 4: prdtypecode "11" is not one of the 27 product type codes',
    );
  });

  it('reads category names from the folder when the file is there, else uses the defaults', () => {
    const dir = mkdtempSync(join(tmpdir(), 'category-names-'));
    expect(loadCategoryNames(dir)).toEqual(DEFAULT_CATEGORY_NAMES);
    writeFileSync(
      join(dir, 'category_names_community.csv'),
      'prdtypecode,community_name_fr\n10,Livres\n40,Jeux\n',
    );
    expect(loadCategoryNames(dir)).toEqual({ 10: 'Livres', 40: 'Jeux' });
  });

  const realDir = rakutenDataDir();
  (realDir ? it : it.skip)('has defaults equal to the shared category_names_community.csv', () => {
    expect(loadCategoryNames(realDir as string)).toEqual(DEFAULT_CATEGORY_NAMES);
  });
});
