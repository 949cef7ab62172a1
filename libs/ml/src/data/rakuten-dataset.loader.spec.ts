import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rakutenDataDir } from './data-location.util';
import { DatasetError } from './dataset.error';
import { PRODUCT_TYPE_CODES } from './product-type.codes';
import { loadRakutenDataset, RakutenDataset } from './rakuten-dataset.loader';

/** A temporary data folder holding the given CSV files and empty image files under images/. */
function dataFolder(files: Record<string, string>, imageNames: string[] = []): string {
  const dir = mkdtempSync(join(tmpdir(), 'rakuten-loader-'));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  mkdirSync(join(dir, 'images'));
  for (const name of imageNames) writeFileSync(join(dir, 'images', name), '');
  return dir;
}

function loadError(dir: string): DatasetError {
  try {
    loadRakutenDataset(dir);
  } catch (err) {
    if (err instanceof DatasetError) return err;
    throw err;
  }
  throw new Error('expected a DatasetError');
}

const PRODUCTS_HEADER =
  'productid,imageid,designation,description,prdtypecode,has_image,image_file,orig_index\n';

describe('loadRakutenDataset on crafted files', () => {
  const description =
    '<p>Robot de piscine, 3 brosses</p>\n<ul>\n<li>C&#39;est &quot;rapide&quot;</li>\n</ul>';

  it('loads the products layout with its optional files, text kept exactly and images looked up', () => {
    const dir = dataFolder(
      {
        'products.csv':
          PRODUCTS_HEADER +
          `11,21,"Robot, piscine","${description.replace(/"/g, '""')}",2583,1,image_21_product_11.jpg,0\n` +
          '12,22,Livre &amp; CD,,10,0,,1\n' +
          '13,23,Puzzle,Bois,1280,1,image_23_product_13.jpg,2\n',
        'extra_text_only.csv': 'designation,description,prdtypecode,source\nPelle,,2585,x\n',
        'image_only.csv': 'productid,imageid,prdtypecode,image_file\n14,24,60,image_24_product_14.jpg\n',
      },
      ['image_21_product_11.jpg', 'image_24_product_14.jpg'],
    );
    const data = loadRakutenDataset(dir);

    expect(data.layout).toBe('products');
    expect(data.products).toEqual([
      {
        designation: 'Robot, piscine',
        description,
        label: 2583,
        productId: '11',
        imageId: '21',
        imagePath: join(dir, 'images', 'image_21_product_11.jpg'),
        origin: { file: 'products.csv', row: 2 },
      },
      {
        designation: 'Livre &amp; CD',
        description: '',
        label: 10,
        productId: '12',
        imageId: '22',
        origin: { file: 'products.csv', row: 6 },
      },
      {
        designation: 'Puzzle',
        description: 'Bois',
        label: 1280,
        productId: '13',
        imageId: '23',
        origin: { file: 'products.csv', row: 7 },
      },
    ]);
    expect(data.extraText).toEqual([
      { designation: 'Pelle', description: '', label: 2585, origin: { file: 'extra_text_only.csv', row: 2 } },
    ]);
    expect(data.imageOnly).toEqual([
      {
        designation: '',
        description: '',
        label: 60,
        productId: '14',
        imageId: '24',
        imagePath: join(dir, 'images', 'image_24_product_14.jpg'),
        origin: { file: 'image_only.csv', row: 2 },
      },
    ]);
    expect(data.report).toEqual({
      files: [
        { name: 'products.csv', rows: 3 },
        { name: 'extra_text_only.csv', rows: 1 },
        { name: 'image_only.csv', rows: 1 },
      ],
      images: { referenced: 4, found: 2, missing: 2 },
      emptyDescriptions: 1,
      classCounts: expect.objectContaining({ 10: 1, 1280: 1, 2583: 1, 60: 0 }),
    });
    expect(Object.keys(data.report.classCounts).map(Number)).toEqual(PRODUCT_TYPE_CODES);
  });

  it('treats extra_text_only.csv and image_only.csv as optional, and reads images from imagesDir', () => {
    const dir = dataFolder({ 'products.csv': PRODUCTS_HEADER + '11,21,Pelle,,2585,0,,0\n' });
    const elsewhere = dataFolder({}, []);
    writeFileSync(join(elsewhere, 'image_21_product_11.jpg'), '');

    const data = loadRakutenDataset(dir, { imagesDir: elsewhere });
    expect(data.extraText).toEqual([]);
    expect(data.imageOnly).toEqual([]);
    expect(data.products[0].imagePath).toBe(join(elsewhere, 'image_21_product_11.jpg'));
    expect(() => loadRakutenDataset(dir, { imagesDir: join(elsewhere, 'typo') })).toThrow(
      'images folder not found',
    );
  });

  it('names file, row and value for a label that is not a whole number or not a known code', () => {
    const notANumber = dataFolder({
      'products.csv': PRODUCTS_HEADER + '1,2,a,,10,0,,0\n1,2,b,"x\ny",12x,0,,1\n',
    });
    expect(loadError(notANumber).message).toBe('products.csv row 3: prdtypecode "12x" is not a whole number');

    const unknown = dataFolder({
      'products.csv': PRODUCTS_HEADER + '1,2,a,,10,0,,0\n',
      'image_only.csv': 'productid,imageid,prdtypecode\n1,2,10\n3,4,1234\n',
    });
    const err = loadError(unknown);
    expect(err.file).toBe(join(unknown, 'image_only.csv'));
    expect(err.row).toBe(3);
    expect(err.message).toMatch(
      /^image_only\.csv row 3: prdtypecode "1234" is not one of the 27 product type codes/,
    );
  });

  it('names the missing required columns and the file', () => {
    const dir = dataFolder({ 'products.csv': 'productid,designation,description\n1,a,b\n' });
    expect(loadError(dir).message).toBe(
      'products.csv row 1: missing required column(s) imageid, prdtypecode; ' +
        'the header has "productid", "designation", "description"',
    );
  });

  it('passes CSV syntax errors on as DatasetErrors', () => {
    const unclosed = dataFolder({
      'products.csv': PRODUCTS_HEADER + '1,2,"Robot,,10,0,,0\n3,4,b,,10,0,,1\n',
    });
    expect(loadError(unclosed).message).toMatch(/^products\.csv row 2: .*never closed/);
    const short = dataFolder({ 'products.csv': PRODUCTS_HEADER + '1,2,a,,10,0,,0\n3,4,b,10\n' });
    expect(loadError(short).message).toMatch(/^products\.csv row 3: found 4 fields but the header has 8/);
  });

  describe('challenge layout', () => {
    const x =
      ',designation,description,productid,imageid\n' +
      `7,"Robot, piscine","${description.replace(/"/g, '""')}",11,21\n` +
      '9,Pelle,,12,22\n';

    it('joins X and Y on the index column, ignoring X_test', () => {
      const dir = dataFolder(
        {
          'X_train_update.csv': x,
          'Y_train_CVw08PX.csv': ',prdtypecode\n9,2585\n7,2583\n',
          'X_test_update.csv': ',designation,description,productid,imageid\n100,Test,,13,23\n',
        },
        ['image_22_product_12.jpg'],
      );
      const data = loadRakutenDataset(dir);
      expect(data.layout).toBe('challenge');
      expect(data.products).toEqual([
        {
          designation: 'Robot, piscine',
          description,
          label: 2583,
          productId: '11',
          imageId: '21',
          origin: { file: 'X_train_update.csv', row: 2 },
        },
        {
          designation: 'Pelle',
          description: '',
          label: 2585,
          productId: '12',
          imageId: '22',
          imagePath: join(dir, 'images', 'image_22_product_12.jpg'),
          origin: { file: 'X_train_update.csv', row: 6 },
        },
      ]);
      expect(data.report.files).toEqual([
        { name: 'X_train_update.csv', rows: 2 },
        { name: 'Y_train_CVw08PX.csv', rows: 2 },
      ]);
      expect(data.report.images).toEqual({ referenced: 2, found: 1, missing: 1 });
    });

    it('fails when an X index has no Y row, or a Y index no X row', () => {
      const noLabel = dataFolder({ 'X_train.csv': x, 'Y_train.csv': ',prdtypecode\n7,2583\n' });
      expect(loadError(noLabel).message).toBe('X_train.csv row 6: index "9" has no label row in Y_train.csv');

      const noProduct = dataFolder({ 'X_train.csv': x, 'Y_train.csv': ',prdtypecode\n7,2583\n9,10\n8,10\n' });
      expect(loadError(noProduct).message).toBe(
        'Y_train.csv row 4: index "8" has no product row in X_train.csv',
      );
    });

    it('names the Y file and row for a bad label', () => {
      const dir = dataFolder({ 'X_train.csv': x, 'Y_train.csv': ',prdtypecode\n7,2583\n9,abc\n' });
      expect(loadError(dir).message).toBe('Y_train.csv row 3: prdtypecode "abc" is not a whole number');
    });
  });

  it('says what the folder holds and what it expected when neither layout is there', () => {
    const dir = dataFolder({ 'X_test.csv': 'x\n', 'notes.txt': '' });
    const err = loadError(dir);
    expect(err.file).toBe(dir);
    expect(err.message).toContain('Expected products.csv, or exactly one X_<name>.csv (not X_test*)');
    expect(err.message).toContain('The folder holds: X_test.csv, images, notes.txt');
  });
});

const realDir = rakutenDataDir();

(realDir ? describe : describe.skip)('loadRakutenDataset on the real Rakuten files', () => {
  const dir = realDir as string;
  let data: RakutenDataset;
  beforeAll(() => {
    data = loadRakutenDataset(dir);
  });
  const codes = new Set(PRODUCT_TYPE_CODES);

  it('loads products.csv, extra_text_only.csv and image_only.csv with the counts of the README', () => {
    expect(data.layout).toBe('products');
    expect(data.products).toHaveLength(5723);
    expect(data.extraText).toHaveLength(2911);
    expect(data.imageOnly).toHaveLength(1230);
    for (const example of [...data.products, ...data.extraText, ...data.imageOnly]) {
      expect(codes.has(example.label as number)).toBe(true);
    }
    // The README's "shared text rows" column.
    // prettier-ignore
    expect(data.report.classCounts).toEqual({
      10: 212, 40: 168, 50: 125, 60: 67, 1140: 190, 1160: 269, 1180: 61, 1280: 320, 1281: 141,
      1300: 348, 1301: 66, 1302: 161, 1320: 218, 1560: 310, 1920: 264, 1940: 75, 2060: 330,
      2220: 77, 2280: 323, 2403: 298, 2462: 107, 2522: 348, 2582: 191, 2583: 650, 2585: 161,
      2705: 173, 2905: 70,
    });
    // About 35 % of descriptions are empty, as in the official release.
    expect(data.report.emptyDescriptions).toBe(1993);
  });

  it('finds the images the README lists', () => {
    expect(data.products.filter((p) => p.imagePath !== undefined)).toHaveLength(675);
    expect(data.imageOnly.every((p) => p.imagePath !== undefined)).toBe(true);
    expect(data.report.images).toEqual({ referenced: 5723 + 1230, found: 675 + 1230, missing: 5723 - 675 });
  });

  it('gives the same products from the challenge layout (X_train.csv + Y_train.csv)', () => {
    const challengeDir = mkdtempSync(join(tmpdir(), 'rakuten-challenge-'));
    for (const name of ['X_train.csv', 'Y_train.csv', 'images'])
      symlinkSync(join(dir, name), join(challengeDir, name));

    const challenge = loadRakutenDataset(challengeDir);
    expect(challenge.layout).toBe('challenge');
    const pairs = (products: RakutenDataset['products']) =>
      products.map((p) => `${p.productId}:${p.label}`).sort();
    expect(pairs(challenge.products)).toEqual(pairs(data.products));
    expect(challenge.products.filter((p) => p.imagePath !== undefined)).toHaveLength(675);
  });
});
