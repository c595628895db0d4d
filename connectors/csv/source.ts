// `source.csv` (and sink.ts: `sink.csv`). The pieces, one concept each:
//   params.ts     the source's params and what they resolve to per file
//   tokenize.ts   bytes → record/field ranges (RFC 4180)
//   numbers.ts    integers, floats and booleans from bytes
//   timestamps.ts ISO 8601, strftime-like formats, time zones
//   columns.ts    field ranges → Arrow column data (typed arrays, validity bitmaps, offsets)
//   infer.ts      a column's type from a sample
//   preamble.ts   BOM, skipped lines, header, column names
//   discover.ts   files, schema, partitions (main thread)
//   chunks.ts     large files cut at record boundaries (main thread)
//   read.ts       a chunk → record batches (worker)
//   write.ts      record batches → CSV bytes (sink)
import { defineSource } from '../../src/workflow/stage.ts';
import type { CsvChunk } from './chunks.ts';
import { discoverCsv } from './discover.ts';
import { csvParams } from './params.ts';
import { readChunk } from './read.ts';

export { csvParams, type CsvParams } from './params.ts';

export const csvSource = defineSource({
  name: 'source.csv',
  kind: 'source',
  version: '1',
  description: 'CSV/TSV files (a path or a glob, one partition per file): declared or inferred column types, ISO and formatted timestamps, large files parsed in parallel chunks.',
  params: csvParams,
  extensions: ['.csv', '.tsv'],
  discover: (params, ctx) => discoverCsv(params, ctx),
  read: (chunk, params, { schema }) => readChunk(chunk as CsvChunk, params, schema),
});
