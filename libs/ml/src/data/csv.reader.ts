import { readFileSync } from 'node:fs';
import { CsvError, parse } from 'csv-parse/sync';
import { DatasetError } from './dataset.error';

const LF = 0x0a;
const CR = 0x0d;

export interface CsvRecord {
  /** 1-based line where the record starts (header = line 1); differs from the record index after multi-line fields. */
  row: number;
  values: Record<string, string>;
}

export interface CsvTable {
  header: string[];
  records: CsvRecord[];
}

/** Reads a whole CSV file with a header line. Every problem, including a missing file, becomes a DatasetError. */
export function readCsvRecords(file: string): CsvTable {
  let content: Buffer;
  try {
    content = readFileSync(file);
  } catch (err) {
    throw new DatasetError(
      file,
      `cannot read the file (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
    );
  }

  // csv-parse's own line counter counts CR and LF separately inside quoted CRLF fields, so lines are counted
  // here instead: a record starts after the previous one ends, past any blank lines.
  let offset = 0;
  let line = 1;
  let previousEnd = 0;
  const startLineOfNextRecord = (): number => {
    for (; offset < previousEnd; offset++) if (content[offset] === LF) line++;
    for (; content[offset] === LF || content[offset] === CR; offset++) if (content[offset] === LF) line++;
    return line;
  };

  const startLines: number[] = [];
  let headerLength = 0;
  let rows: string[][];
  try {
    rows = parse(content, {
      bom: true,
      relax_quotes: false,
      skip_empty_lines: true,
      on_record: (fields: string[], info) => {
        startLines.push(startLineOfNextRecord());
        if (startLines.length === 1) headerLength = fields.length;
        previousEnd = info.bytes;
        return fields;
      },
    });
  } catch (err) {
    if (!(err instanceof CsvError)) throw err;
    throw new DatasetError(file, describeCsvError(err, headerLength), startLineOfNextRecord());
  }

  if (rows.length === 0) throw new DatasetError(file, 'the file is empty; expected a header line');
  const header = rows[0];
  const records = rows.slice(1).map((fields, i) => ({
    row: startLines[i + 1],
    values: Object.fromEntries(header.map((name, column) => [name, fields[column]])),
  }));
  return { header, records };
}

/** Fails with the list of required columns the header lacks. */
export function requireColumns(file: string, header: string[], required: string[]): void {
  const missing = required.filter((name) => !header.includes(name));
  if (missing.length > 0) {
    throw new DatasetError(
      file,
      `missing required column(s) ${missing.join(', ')}; the header has ${header.map((h) => JSON.stringify(h)).join(', ')}`,
      1,
    );
  }
}

function describeCsvError(err: CsvError, headerLength: number): string {
  switch (err.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return 'a quoted field starting in this record is never closed (missing closing ")';
    case 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH':
    case 'CSV_RECORD_INCONSISTENT_COLUMNS': {
      const found = Array.isArray(err.record)
        ? `${err.record.length} fields`
        : 'a different number of fields';
      return `found ${found} but the header has ${headerLength} (a stray comma or an unquoted field?)`;
    }
    case 'INVALID_OPENING_QUOTE':
    case 'CSV_INVALID_CLOSING_QUOTE':
      return 'a " appears inside a field; quote the whole field and double the quotes inside it ("")';
    default:
      return err.message;
  }
}
