// The worker side of source.csv: one chunk (a whole file, or bytes cut from a large one) into
// record batches of at most `batchRows` rows.
import { readFileSync } from 'node:fs';
import type { Data, RecordBatch, Schema } from 'apache-arrow';
import { makeBatch } from '../../src/arrow/batch.ts';
import { takeBatch } from '../../src/arrow/take.ts';
import { InputError } from '../../src/workflow/errors.ts';
import type { CsvChunk } from './chunks.ts';
import { columnBuilder, type ColumnBuilder, type ColumnSpec } from './columns.ts';
import { dialectFor, formatFor, type CsvParams } from './params.ts';
import { checkHeader, readPreamble } from './preamble.ts';
import { countLines, FieldTable, ParseFault, splitRecords, type Dialect } from './tokenize.ts';

/** How each column of `schema` is read under `params`. */
export function columnSpecs(schema: Schema, params: CsvParams): ColumnSpec[] {
  return schema.fields.map((field) => {
    const ownFormat = typeof params.timestampFormat === 'object' && params.timestampFormat[field.name] !== undefined;
    return { field, declared: params.schema?.[field.name] !== undefined || ownFormat, format: formatFor(params, field.name) };
  });
}

/** Field ranges held at once: ~9 bytes each, so wide files get shorter batches rather than huge tables. */
const MAX_FIELDS = 1 << 22;

/** Rows of a field table for `bytes` of input: a record takes at least `columns` bytes (its delimiters and newline). */
export function tableRows(wanted: number, columns: number, bytes: number): number {
  return Math.max(1, Math.min(wanted, Math.floor(bytes / columns) + 1, Math.floor(MAX_FIELDS / columns)));
}

/** Sets aside one row the source cannot read, with why (ReadContext.reject). */
export type RejectRow = (reason: string) => void;

/** A bad record's text for its quarantine reason: its first line, cut short. */
function recordText(buf: Uint8Array, start: number, next: number): string {
  const nl = buf.indexOf(10, start);
  const end = Math.min(next, nl < 0 ? next : nl, start + 120);
  const text = new TextDecoder().decode(buf.subarray(start, end)).replace(/\r$/, '');
  return end < next && end === start + 120 ? `${text}…` : text;
}

/**
 * Record batches of buf[pos..end), whose byte `base` is on line `baseLine`. With `reject`, a
 * record that cannot be split or a value that cannot be read sets its row aside (file:line and
 * why) and the rest of the chunk goes on; without it, it throws an InputError.
 */
export function* parseBatches(
  buf: Uint8Array, pos: number, end: number, base: number, baseLine: number,
  file: string, dialect: Dialect, params: CsvParams, schema: Schema, specs = columnSpecs(schema, params), reject?: RejectRow,
): Generator<RecordBatch> {
  const lineAt = (offset: number) => baseLine + countLines(buf, base, offset);
  // Rows of the field table whose values failed; rejected once all columns are built.
  const badRows = new Map<number, string>();
  const badValue = reject && ((row: number, reason: string, line: number) => {
    if (!badRows.has(row)) badRows.set(row, `${file}:${line}: ${reason}`);
  });
  const badRecord = reject && ((start: number, next: number, reason: string) =>
    reject(`${file}:${lineAt(start)}: ${reason} (record: ${JSON.stringify(recordText(buf, start, next))})`));
  const ctx = { file, quote: dialect.quote, nullValues: params.nullValues, timezone: params.timezone, lineAt, badValue };
  const builders: ColumnBuilder[] = specs.map((spec) => columnBuilder(spec, ctx));
  const columns = schema.fields.length;
  const capacity = tableRows(params.batchRows, columns, end - pos);
  const table = new FieldTable(columns, capacity);
  while (pos < end) {
    try {
      pos = splitRecords(buf, pos, end, dialect, table, badRecord);
    } catch (error) {
      if (error instanceof ParseFault) throw new InputError(file, error.message, lineAt(error.offset));
      throw error;
    }
    if (table.rows === 0) continue;
    const children: Data[] = builders.map((build, column) => build(buf, table, column));
    // makeBatch keeps the declared schema object (Arrow JS's constructor copies it), as the other
    // sources do, so the engine's schema checks take their identity fast path.
    const batch = makeBatch(schema, children, table.rows);
    if (badRows.size === 0) {
      yield batch;
      continue;
    }
    for (const reason of [...badRows.entries()].sort((x, y) => x[0] - y[0]).map(([, why]) => why)) reject!(reason);
    const good = Int32Array.from({ length: table.rows }, (_, i) => i).filter((i) => !badRows.has(i));
    badRows.clear();
    if (good.length > 0) yield takeBatch(batch, good);
  }
}

/** The batches of one chunk. */
export function* readChunk(chunk: CsvChunk, params: CsvParams, schema: Schema, reject?: RejectRow): Generator<RecordBatch> {
  const dialect = dialectFor(params, chunk.path);
  if (chunk.data) {
    yield* parseBatches(chunk.data, 0, chunk.data.byteLength, 0, chunk.firstLine ?? 1, chunk.path, dialect, params, schema, undefined, reject);
    return;
  }
  const buf = readFileSync(chunk.path);
  const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  const preamble = readPreamble(bytes, bytes.length, dialect, params, chunk.path, true);
  checkHeader(chunk.header, preamble.header, chunk.path, preamble.headerLine);
  yield* parseBatches(bytes, preamble.dataStart, bytes.length, 0, 1, chunk.path, dialect, params, schema, undefined, reject);
}
