import { readdirSync } from 'node:fs';
import { DatasetError } from './dataset.error';

export const PRODUCTS_FILE = 'products.csv';

export type RakutenLayout =
  | { layout: 'products'; entries: string[] }
  | { layout: 'challenge'; entries: string[]; pair: [x: string, y: string] };

const FOLDER_PROBLEMS: Record<string, string> = {
  ENOENT: 'does not exist',
  ENOTDIR: 'is not a folder',
  EACCES: 'cannot be read (permission denied)',
  EPERM: 'cannot be read (permission denied)',
};

/**
 * Which Rakuten layout a folder holds, from its listing alone (no file is read): products.csv, or one X_*.csv
 * that is not X_test*.csv with one Y_*.csv. A DatasetError says what is wrong otherwise, so that a process can
 * check its data folder at boot in milliseconds instead of failing when it first trains.
 */
export function findRakutenLayout(dir: string): RakutenLayout {
  const entries = listFolder(dir);
  if (entries.includes(PRODUCTS_FILE)) return { layout: 'products', entries };
  const xFiles = entries.filter((name) => /^X_.+\.csv$/i.test(name) && !/^X_test/i.test(name));
  const yFiles = entries.filter((name) => /^Y_.+\.csv$/i.test(name));
  if (xFiles.length === 1 && yFiles.length === 1) {
    return { layout: 'challenge', entries, pair: [xFiles[0], yFiles[0]] };
  }
  const holds = entries.length === 0 ? 'nothing' : [...entries].sort().join(', ');
  throw new DatasetError(
    dir,
    `no Rakuten data layout found. Expected ${PRODUCTS_FILE}, or exactly one X_<name>.csv (not X_test*) with ` +
      `exactly one Y_<name>.csv, e.g. X_train_update.csv + Y_train_CVw08PX.csv. The folder holds: ${holds}`,
  );
}

function listFolder(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    const problem = FOLDER_PROBLEMS[code];
    throw new DatasetError(
      dir,
      problem ? `the data folder ${problem}` : `cannot read the data folder (${code})`,
    );
  }
}
