// The main-thread side of source.csv: which files, what schema (declared types, and the rest
// inferred from a sample of the first file), and the partitions with their chunks.
import { open } from 'node:fs/promises';
import { Field, Schema, type DataType } from 'apache-arrow';
import { parseType } from '../../src/arrow/types.ts';
import { InputError } from '../../src/workflow/errors.ts';
import type { DiscoverContext, SourcePartition } from '../../src/workflow/stage.ts';
import { unreadablePartition } from '../../src/io/file-discovery.ts';
import { lastRecordEnd, splitFile, type CsvChunk } from './chunks.ts';
import { checkReadable, columnBuilder } from './columns.ts';
import { inferType, timestampType } from './infer.ts';
import { dialectFor, formatFor, SAMPLE_BYTES, SAMPLE_ROWS, type CsvParams } from './params.ts';
import { columnNames, readPreamble, type Preamble } from './preamble.ts';
import { columnSpecs, tableRows } from './read.ts';
import { compileFormat, zoneConverter } from './timestamps.ts';
import { matchFiles } from '../../src/io/input-files.ts';
import { countLines, FieldTable, ParseFault, readRecord, splitRecords, type Dialect } from './tokenize.ts';

/** The first `bytes` of a file (fewer if it is shorter), and whether that is the whole file. */
async function readPrefix(path: string, bytes: number): Promise<{ buf: Uint8Array; complete: boolean; size: number }> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const buf = new Uint8Array(Math.min(size, bytes));
    let end = 0;
    while (end < buf.length) {
      const { bytesRead } = await handle.read(buf, end, buf.length - end, end);
      if (bytesRead === 0) break;
      end += bytesRead;
    }
    return { buf: buf.subarray(0, end), complete: end >= size, size };
  } finally {
    await handle.close();
  }
}

/** Past this, a sample still without a complete record is an error (a quote left open, most likely). */
const MAX_SAMPLE_BYTES = 64 * 1024 * 1024;

/** A sample of whole records from the start of a file: ~1 MiB, more if its first record is longer. */
async function readSample(file: string, dialect: Dialect, params: CsvParams) {
  for (let sampleBytes = SAMPLE_BYTES; ; sampleBytes *= 4) {
    const prefix = await readPrefix(file, sampleBytes);
    const last = !prefix.complete && sampleBytes >= MAX_SAMPLE_BYTES;
    let preamble: Preamble;
    try {
      preamble = readPreamble(prefix.buf, prefix.buf.length, dialect, params, file, prefix.complete);
    } catch (error) {
      if (last || prefix.complete || !(error instanceof InputError) || !/longer than/.test(error.message)) throw error;
      continue;
    }
    if (last && lastRecordEnd(prefix.buf, preamble.dataStart, prefix.buf.length, dialect) <= preamble.dataStart) {
      throw new InputError(file, `no complete record in the first ${prefix.buf.length} bytes (is a quote left open?)`, preamble.dataLine);
    }
    const end = prefix.complete ? prefix.buf.length : lastRecordEnd(prefix.buf, preamble.dataStart, prefix.buf.length, dialect);
    if (prefix.complete || end > preamble.dataStart) return { ...prefix, preamble, end };
  }
}

export async function discoverCsv(params: CsvParams, ctx: DiscoverContext): Promise<{ schema: Schema; partitions: SourcePartition[] }> {
  const inputs = await matchFiles(params.path, ctx);
  const tolerant = (ctx.onError ?? 'fail') !== 'fail';
  // The schema comes from the first file that can be sampled; files before it are set aside.
  const unreadable: SourcePartition[] = [];
  let found: { schema: Schema; header: string[] | undefined } | undefined;
  for (const input of inputs) {
    try {
      found = await sampleSchema(input.path, params, tolerant);
      break;
    } catch (error) {
      if (input === inputs.at(-1)) throw error;
      unreadable.push(unreadablePartition(input, error));
    }
  }
  const { schema, header } = found!;
  const partitions: SourcePartition[] = inputs.slice(unreadable.length).map(({ path, key, bytes }) => {
    return {
      key,
      file: path,
      bytes,
      chunks(): AsyncIterable<CsvChunk> | Iterable<CsvChunk> {
        if (bytes > params.chunkBytes) return splitFile(path, params, header);
        return [{ path, bytes, ...(header ? { header } : {}) }];
      },
    };
  });
  return { schema, partitions: [...unreadable, ...partitions] };
}

/**
 * The schema read from a sample of `first`: declared types, the rest inferred. `tolerant`: records
 * the sample cannot split or values a declared column cannot read are left out of the inference
 * rather than failing (the run sets those rows aside one by one).
 */
async function sampleSchema(first: string, params: CsvParams, tolerant: boolean): Promise<{ schema: Schema; header: string[] | undefined }> {
  const dialect = dialectFor(params, first);

  const sample = await readSample(first, dialect, params);
  const { buf, preamble, end } = sample;
  const lineAt = (offset: number) => 1 + countLines(buf, 0, offset);

  // Column names: the header's (or `columns`, or column_N for as many fields as the first record has).
  let fieldCount = params.columns?.length ?? 0;
  if (!params.header && !params.columns) {
    if (preamble.dataStart >= end) throw new InputError(first, 'empty file: no line to count the columns of (give them in columns)', preamble.dataLine);
    try {
      fieldCount = readRecord(buf, preamble.dataStart, end, dialect).fields.length;
    } catch (error) {
      if (error instanceof ParseFault) throw new InputError(first, error.message, lineAt(error.offset));
      throw error;
    }
  }
  const names = columnNames(params, preamble.header, fieldCount, first);
  // Named in params but not in the header: the header may well be the one at fault (damaged, or
  // another file's), so the error names the file whose header it is.
  const missing = (column: string, param: string) =>
    new InputError(first, `has no column '${column}', which ${param} names (columns: ${names.join(', ') || 'none'})`, preamble.headerLine);
  for (const column of Object.keys(params.schema ?? {})) if (!names.includes(column)) throw missing(column, 'schema');
  if (typeof params.timestampFormat === 'object') {
    for (const column of Object.keys(params.timestampFormat)) if (!names.includes(column)) throw missing(column, 'timestampFormat');
  }

  const table = new FieldTable(names.length, tableRows(SAMPLE_ROWS, names.length, end - preamble.dataStart));
  const skipBad = tolerant ? () => undefined : undefined;
  try {
    splitRecords(buf, preamble.dataStart, end, dialect, table, skipBad);
  } catch (error) {
    if (error instanceof ParseFault) throw new InputError(first, error.message, lineAt(error.offset));
    throw error;
  }

  const zone = zoneConverter(params.timezone);
  const fields = names.map((name, column) => {
    const declared = params.schema?.[name];
    let type: DataType;
    if (declared !== undefined) type = parseType(declared);
    else if (typeof params.timestampFormat === 'object' && params.timestampFormat[name] !== undefined) type = timestampType();
    else {
      const format = formatFor(params, name);
      type = inferType(buf, table, column, {
        quote: dialect.quote, nullValues: params.nullValues, zone, format: format === undefined ? undefined : compileFormat(format),
      });
    }
    const field = new Field(name, type, true);
    checkReadable(field);
    return field;
  });
  const schema = new Schema(fields);

  // Declared columns must read the sample: a bad declaration shows at validation, with its line.
  const ctx = { file: first, quote: dialect.quote, nullValues: params.nullValues, timezone: params.timezone, lineAt, badValue: skipBad };
  for (const [column, spec] of columnSpecs(schema, params).entries()) {
    if (spec.declared) columnBuilder(spec, ctx)(buf, table, column);
  }
  return { schema, header: preamble.header };
}
