// Splitting CSV bytes into records and fields (RFC 4180), without making strings: each field is a
// byte range of the input plus how it was quoted. Converting ranges to values is columns.ts's job.
//
// Rules shared with the chunker (chunks.ts), which must cut files exactly where this splits them:
// - records end at LF (a CR before it is dropped); the last record may lack its newline;
// - a quote opens a quoted field only as the field's first byte; inside, a doubled quote is one
//   quote, and delimiters and newlines are data; after the closing quote, anything up to the next
//   delimiter or newline is kept literally (as Python's csv module does);
// - a line starting with the comment character, at a record start, is skipped;
// - an empty line is skipped when there is more than one column (with one column it is a null).

export const LF = 10;
export const CR = 13;
export const SPACE = 32;

/** Bytes of the dialect; -1 for "none". */
export interface Dialect {
  delimiter: number;
  quote: number;
  comment: number;
}

/** Field kinds: how to get a field's content from its byte range. */
export const PLAIN = 0;
/** Quoted, no doubled quotes: the range is the content inside the quotes. */
export const QUOTED = 1;
/** Quoted with doubled quotes or text after the closing quote: the range is raw, see `unescape`. */
export const ESCAPED = 2;

/** An error at a byte offset of the input; the caller turns the offset into a line number. */
export class ParseFault extends Error {
  constructor(readonly offset: number, message: string) {
    super(message);
  }
}

/** Field ranges of up to `capacity` records with `columns` fields each, reused batch after batch. */
export class FieldTable {
  readonly starts: Int32Array;
  readonly ends: Int32Array;
  readonly kinds: Uint8Array;
  /** Byte offset where each record starts (for error lines). */
  readonly recordStarts: Int32Array;
  rows = 0;

  constructor(readonly columns: number, readonly capacity: number) {
    this.starts = new Int32Array(columns * capacity);
    this.ends = new Int32Array(columns * capacity);
    this.kinds = new Uint8Array(columns * capacity);
    this.recordStarts = new Int32Array(capacity);
  }
}

const stopTables = new Map<number, Uint8Array>();

/** 1 for the bytes that end an unquoted field (the delimiter and LF): one load per byte in the hot loop. */
function stopsOf(dialect: Dialect): Uint8Array {
  let stops = stopTables.get(dialect.delimiter);
  if (!stops) {
    stops = new Uint8Array(256);
    stops[dialect.delimiter] = 1;
    stops[LF] = 1;
    stopTables.set(dialect.delimiter, stops);
  }
  return stops;
}

/** Set by `closingQuote`: whether the quoted field it scanned holds doubled quotes. */
let doubledQuotes = false;

const unterminated = 'unterminated quoted field (the quote opened here is never closed)';

/** The offset just past the quote closing the field opened at buf[i]; -1 if it never closes. */
function closingQuote(buf: Uint8Array, i: number, end: number, quote: number): number {
  doubledQuotes = false;
  for (let j = i + 1; ;) {
    const q = buf.indexOf(quote, j);
    if (q < 0 || q >= end) return -1;
    if (q + 1 >= end || buf[q + 1] !== quote) return q + 1;
    doubledQuotes = true;
    j = q + 2;
  }
}

/** closingQuote, throwing if the quote never closes. */
function pastClosingQuote(buf: Uint8Array, i: number, end: number, quote: number): number {
  const j = closingQuote(buf, i, end, quote);
  if (j < 0) throw new ParseFault(i, unterminated);
  return j;
}

/**
 * Told of a record that cannot be split (wrong field count, a quote never closed), from its first
 * byte to the offset after it; the record is then left out and splitting goes on.
 */
export type BadRecord = (start: number, next: number, reason: string) => void;

/**
 * Splits records from buf[pos..end) into `table` until it is full or the input ends; returns the
 * offset after the last record read. The input must end at a record boundary (or at the end of
 * the data). A wrong field count or an unterminated quote goes to `badRecord` (the record is
 * skipped; a stray quote's record ends at the next LF), or without it throws a ParseFault.
 */
export function splitRecords(buf: Uint8Array, pos: number, end: number, dialect: Dialect, table: FieldTable, badRecord?: BadRecord): number {
  const { delimiter, quote, comment } = dialect;
  const stops = stopsOf(dialect);
  const n = table.columns;
  const { starts, ends, kinds, recordStarts, capacity } = table;
  let row = 0;
  let i = pos;
  let c = 0;
  records: while (row < capacity && i < end) {
    c = buf[i];
    if (c === comment) {
      const nl = buf.indexOf(LF, i);
      i = nl < 0 || nl >= end ? end : nl + 1;
      continue;
    }
    if (n > 1 && (c === LF || (c === CR && (i + 1 >= end || buf[i + 1] === LF)))) {
      i += c === CR ? 2 : 1;
      continue;
    }
    const recordStart = i;
    const base = row * n;
    let f = 0;
    for (;;) {
      let s = i;
      let e: number;
      let kind = PLAIN;
      if (i < end && buf[i] === quote) {
        let j = closingQuote(buf, i, end, quote);
        if (j < 0) {
          if (!badRecord) throw new ParseFault(i, unterminated);
          const nl = buf.indexOf(LF, recordStart);
          i = nl < 0 || nl >= end ? end : nl + 1;
          badRecord(recordStart, i, unterminated);
          continue records;
        }
        if (j >= end || (c = buf[j]) === delimiter || c === LF || (c === CR && (j + 1 >= end || buf[j + 1] === LF))) {
          if (doubledQuotes) {
            kind = ESCAPED;
            e = j;
          } else {
            kind = QUOTED;
            s = i + 1;
            e = j - 1;
          }
          i = j < end && c === CR ? j + 1 : j;
        } else {
          while (j < end && (c = buf[j]) !== delimiter && c !== LF) j++;
          kind = ESCAPED;
          e = j > s && (j >= end || c === LF) && buf[j - 1] === CR ? j - 1 : j;
          i = j;
        }
      } else {
        let j = i;
        while (j < end && stops[buf[j]] === 0) j++;
        c = j < end ? buf[j] : 0;
        e = j > s && (j >= end || c === LF) && buf[j - 1] === CR ? j - 1 : j;
        i = j;
      }
      if (f < n) {
        starts[base + f] = s;
        ends[base + f] = e;
        kinds[base + f] = kind;
      }
      f++;
      if (i < end && buf[i] === delimiter) {
        i++;
        continue;
      }
      if (i < end) i++; // the LF
      break;
    }
    if (f !== n) {
      const reason = `expected ${n} field${n === 1 ? '' : 's'}, found ${f}`;
      if (!badRecord) throw new ParseFault(recordStart, reason);
      // A stray quote may have swallowed the lines after it: only the first line is the bad
      // record, and splitting starts again on the next.
      const nl = buf.indexOf(LF, recordStart);
      if (nl >= 0 && nl + 1 < i) i = nl + 1;
      badRecord(recordStart, i, reason);
      continue;
    }
    recordStarts[row++] = recordStart;
  }
  table.rows = row;
  return i;
}

/** One record's fields as strings, any number of them (headers); returns them and the offset after it. */
export function readRecord(buf: Uint8Array, pos: number, end: number, dialect: Dialect): { fields: string[]; next: number } {
  const fields: string[] = [];
  let i = pos;
  for (;;) {
    const field = fieldExtent(buf, i, end, dialect);
    fields.push(fieldString(buf, field.s, field.e, field.kind, dialect.quote));
    i = field.next;
    if (i < end && buf[i] === dialect.delimiter) {
      i++;
      continue;
    }
    if (i < end) i++; // the LF
    return { fields, next: i };
  }
}

/** The range of the field starting at `i`, and where its terminator (delimiter, LF or end) is. */
function fieldExtent(buf: Uint8Array, i: number, end: number, dialect: Dialect): { s: number; e: number; kind: number; next: number } {
  const { delimiter, quote } = dialect;
  let c = 0;
  if (i < end && buf[i] === quote) {
    let j = pastClosingQuote(buf, i, end, quote);
    if (j >= end || (c = buf[j]) === delimiter || c === LF || (c === CR && (j + 1 >= end || buf[j + 1] === LF))) {
      const next = j < end && c === CR ? j + 1 : j;
      return doubledQuotes ? { s: i, e: j, kind: ESCAPED, next } : { s: i + 1, e: j - 1, kind: QUOTED, next };
    }
    while (j < end && (c = buf[j]) !== delimiter && c !== LF) j++;
    return { s: i, e: j > i && (j >= end || c === LF) && buf[j - 1] === CR ? j - 1 : j, kind: ESCAPED, next: j };
  }
  let j = i;
  while (j < end && (c = buf[j]) !== delimiter && c !== LF) j++;
  return { s: i, e: j > i && (j >= end || c === LF) && buf[j - 1] === CR ? j - 1 : j, kind: PLAIN, next: j };
}

/** The content bytes of an ESCAPED field: doubled quotes undone, the quotes themselves dropped. */
export function unescape(buf: Uint8Array, s: number, e: number, quote: number, out: Uint8Array = new Uint8Array(e - s), at = 0): number {
  let o = at;
  let i = s + 1; // buf[s] is the opening quote
  let inQuotes = true;
  while (i < e) {
    const c = buf[i];
    if (inQuotes && c === quote) {
      if (i + 1 < e && buf[i + 1] === quote) {
        out[o++] = quote;
        i += 2;
        continue;
      }
      inQuotes = false;
      i++;
      continue;
    }
    out[o++] = c;
    i++;
  }
  return o - at;
}

const decoder = new TextDecoder();

/** A field's content as a string (for headers, messages and rare slow paths). */
export function fieldString(buf: Uint8Array, s: number, e: number, kind: number, quote: number): string {
  if (kind !== ESCAPED) return decoder.decode(buf.subarray(s, e));
  const out = new Uint8Array(e - s);
  const length = unescape(buf, s, e, quote, out);
  return decoder.decode(out.subarray(0, length));
}

/** How many LF bytes buf[s..e) holds. */
export function countLines(buf: Uint8Array, s: number, e: number): number {
  let count = 0;
  let i = buf.indexOf(LF, s);
  while (i >= 0 && i < e) {
    count++;
    i = buf.indexOf(LF, i + 1);
  }
  return count;
}

/** The offset after the `lines`-th LF from `pos` (or the end); for `skipRows`. */
export function skipLines(buf: Uint8Array, pos: number, end: number, lines: number): number {
  let i = pos;
  for (let k = 0; k < lines && i < end; k++) {
    const nl = buf.indexOf(LF, i);
    i = nl < 0 || nl >= end ? end : nl + 1;
  }
  return i;
}
