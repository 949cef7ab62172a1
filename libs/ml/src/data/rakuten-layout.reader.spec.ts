import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatasetError } from './dataset.error';
import { findRakutenLayout } from './rakuten-layout.reader';

describe('findRakutenLayout', () => {
  let root: string;
  const folder = (name: string, files: string[]) => {
    const dir = join(root, name);
    mkdirSync(dir);
    for (const file of files) writeFileSync(join(dir, file), '');
    return dir;
  };
  const problem = (dir: string) => {
    try {
      findRakutenLayout(dir);
    } catch (error) {
      expect(error).toBeInstanceOf(DatasetError);
      return (error as Error).message;
    }
    throw new Error(`${dir} was accepted`);
  };

  beforeAll(() => (root = mkdtempSync(join(tmpdir(), 'rakuten-layout-'))));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('recognises both layouts from the listing', () => {
    expect(findRakutenLayout(folder('products', ['products.csv', 'X_train.csv']))).toMatchObject({
      layout: 'products',
    });
    expect(
      findRakutenLayout(folder('challenge', ['X_train_update.csv', 'X_test_update.csv', 'Y_train.csv'])),
    ).toMatchObject({ layout: 'challenge', pair: ['X_train_update.csv', 'Y_train.csv'] });
  });

  it('says in words what is wrong with a folder that is missing, a file or of no layout', () => {
    expect(problem(join(root, 'missing'))).toBe('missing: the data folder does not exist');
    writeFileSync(join(root, 'file.csv'), '');
    expect(problem(join(root, 'file.csv'))).toBe('file.csv: the data folder is not a folder');
    expect(problem(folder('other', ['notes.txt']))).toMatch(
      /^other: no Rakuten data layout found.*holds: notes.txt$/,
    );
  });
});
