// What comes before a file's data: a UTF-8 byte-order mark, `skipRows` lines, comment and blank
// lines, and the header line. Shared by discover (the first file's sample), workers reading whole
// files, and the chunker reading the first block of a large file.
import { InputError } from '../../src/workflow/errors.ts';
import type { CsvParams } from './params.ts';
import { countLines, CR, LF, ParseFault, readRecord, skipLines, type Dialect } from './tokenize.ts';

export interface Preamble {
  /** The header's fields as written (when `header` is on). */
  header?: string[];
  /** Line of the header (1-based), when there is one. */
  headerLine?: number;
  /** Offset and 1-based line where the data records start. */
  dataStart: number;
  dataLine: number;
}

/**
 * Reads the preamble of buf[0..end). `complete` says the buffer holds the whole file; if not, a
 * header that runs to the end of the buffer is an error (it is longer than what was read).
 */
export function readPreamble(buf: Uint8Array, end: number, dialect: Dialect, params: CsvParams, file: string, complete: boolean): Preamble {
  let pos = end >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0;
  pos = skipLines(buf, pos, end, params.skipRows);
  // Comment and blank lines before the header (or the first record).
  for (;;) {
    if (pos >= end) break;
    const c = buf[pos];
    if (c === dialect.comment || c === LF || (c === CR && pos + 1 < end && buf[pos + 1] === LF)) pos = skipLines(buf, pos, end, 1);
    else break;
  }
  const line = 1 + countLines(buf, 0, pos);
  if (!params.header) return { dataStart: pos, dataLine: line };
  if (pos >= end) throw new InputError(file, 'empty file: no header line', line);
  let record: { fields: string[]; next: number };
  try {
    record = readRecord(buf, pos, end, dialect);
  } catch (error) {
    if (!(error instanceof ParseFault)) throw error;
    if (!complete) throw new InputError(file, `the header is longer than the ${end} bytes read (is a quote left open?)`, line);
    throw new InputError(file, error.message, line);
  }
  if (!complete && record.next >= end && buf[end - 1] !== LF) {
    throw new InputError(file, `the header is longer than the ${end} bytes read`, line);
  }
  return { header: record.fields, headerLine: line, dataStart: record.next, dataLine: line + countLines(buf, pos, record.next) };
}

/** Column names from a header or the `columns` param: empty names become column_N, repeats get _2, _3... */
export function columnNames(params: CsvParams, header: string[] | undefined, fieldCount: number, file: string): string[] {
  let names: string[];
  if (params.columns) {
    if (header && params.columns.length !== header.length) {
      throw new InputError(file, `columns lists ${params.columns.length} names but the header has ${header.length} (${header.join(', ')})`);
    }
    names = [...params.columns];
  } else if (header) names = header.map((name, i) => name.trim() === '' ? `column_${i + 1}` : name);
  else names = Array.from({ length: fieldCount }, (_, i) => `column_${i + 1}`);
  const seen = new Map<string, number>();
  const taken = new Set(names);
  return names.map((name) => {
    const count = (seen.get(name) ?? 0) + 1;
    seen.set(name, count);
    if (count === 1) return name;
    let k = count;
    while (taken.has(`${name}_${k}`)) k++;
    taken.add(`${name}_${k}`);
    return `${name}_${k}`;
  });
}

/** Throws an InputError naming the file when its header differs from the first file's. */
export function checkHeader(expected: string[] | undefined, found: string[] | undefined, file: string, line: number | undefined): void {
  if (!expected || !found) return;
  if (expected.length === found.length && expected.every((name, i) => name === found[i])) return;
  throw new InputError(file, `the header differs from the first file's: expected ${expected.join(',')}; found ${found.join(',')}`, line);
}
