import { basename } from 'node:path';

/**
 * A data file that cannot be loaded as it is. The message starts with the file name and, when known, the line
 * where the offending record starts, so a person can open the file at that line and fix it.
 */
export class DatasetError extends Error {
  override readonly name = 'DatasetError';

  constructor(
    /** Path of the file (or folder) at fault, as it was given to the loader. */
    readonly file: string,
    /** What is wrong, without the file name. */
    readonly problem: string,
    /** 1-based line where the record starts; the header is line 1. */
    readonly row?: number,
  ) {
    super(`${basename(file)}${row === undefined ? '' : ` row ${row}`}: ${problem}`);
  }
}
