import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCsvRecords } from './csv.reader';
import { DatasetError } from './dataset.error';

function csvFile(content: string, name = 'sample.csv'): string {
  const file = join(mkdtempSync(join(tmpdir(), 'csv-reader-')), name);
  writeFileSync(file, content);
  return file;
}

function errorOf(fn: () => unknown): DatasetError {
  try {
    fn();
  } catch (err) {
    if (err instanceof DatasetError) return err;
    throw err;
  }
  throw new Error('expected a DatasetError');
}

describe('readCsvRecords', () => {
  it('keeps quoted multi-line fields intact and numbers each record by the line it starts on', () => {
    const html = '<p>Robot, 3 vitesses</p>\n<ul><li>d&#39;eau &amp; "air"</li></ul>\n';
    const file = csvFile(
      `id,designation,description\n1,Pompe,"${html.replace(/"/g, '""')}"\n2,"Piscine, ronde",\n3,Filtre,ok\n`,
    );
    const { header, records } = readCsvRecords(file);
    expect(header).toEqual(['id', 'designation', 'description']);
    expect(records.map((r) => r.values)).toEqual([
      { id: '1', designation: 'Pompe', description: html },
      { id: '2', designation: 'Piscine, ronde', description: '' },
      { id: '3', designation: 'Filtre', description: 'ok' },
    ]);
    expect(records.map((r) => r.row)).toEqual([2, 5, 6]);
  });

  it('ignores a byte order mark, CRLF line ends and blank lines, still counting lines correctly', () => {
    const file = csvFile('\uFEFFa,b\r\n\r\n1,"x\r\ny"\r\n\r\n\r\n2,3\r\n\r\n');
    const { header, records } = readCsvRecords(file);
    expect(header).toEqual(['a', 'b']);
    expect(records).toEqual([
      { row: 3, values: { a: '1', b: 'x\r\ny' } },
      { row: 7, values: { a: '2', b: '3' } },
    ]);
  });

  it('reports an unclosed quote at the line where the broken record starts', () => {
    const file = csvFile('a,b\n1,2\n3,"never closed\n4,5\n6,7\n', 'broken.csv');
    const err = errorOf(() => readCsvRecords(file));
    expect(err.file).toBe(file);
    expect(err.row).toBe(3);
    expect(err.message).toMatch(/^broken\.csv row 3: .*never closed/);
  });

  it('reports a record with the wrong number of fields, after a multi-line record', () => {
    const file = csvFile('a,b\n1,"two\nlines"\n3,4,5\n', 'wide.csv');
    const err = errorOf(() => readCsvRecords(file));
    expect(err.row).toBe(4);
    expect(err.message).toBe(
      'wide.csv row 4: found 3 fields but the header has 2 (a stray comma or an unquoted field?)',
    );
  });

  it('reports a quote in the middle of an unquoted field', () => {
    const err = errorOf(() => readCsvRecords(csvFile('a,b\n1,2\n3,5" pouces\n', 'quote.csv')));
    expect(err.row).toBe(3);
    expect(err.message).toMatch(/^quote\.csv row 3: a " appears inside a field/);
  });

  it('turns a missing or empty file into a DatasetError naming it', () => {
    const missing = join(tmpdir(), 'no-such-dir-for-csv-reader', 'gone.csv');
    expect(errorOf(() => readCsvRecords(missing)).message).toBe('gone.csv: cannot read the file (ENOENT)');
    expect(errorOf(() => readCsvRecords(csvFile('', 'empty.csv'))).message).toBe(
      'empty.csv: the file is empty; expected a header line',
    );
  });
});
