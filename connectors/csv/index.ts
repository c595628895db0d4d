// `source.csv` and `sink.csv`. The pieces, one concept each:
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
import { z } from 'zod';
import { defineSink, defineSource } from '../../src/workflow/stage.ts';
import { fileSink, outputPath, partitionFiles } from '../file-sink.ts';
import type { CsvChunk } from './chunks.ts';
import { discoverCsv } from './discover.ts';
import { csvParams } from './params.ts';
import { readChunk } from './read.ts';
import { csvFormat } from './write.ts';

export { csvParams, type CsvParams } from './params.ts';

export const csvSource = defineSource({
  name: 'source.csv',
  kind: 'source',
  version: '1',
  description: 'CSV/TSV files (a path or a glob, one partition per file): declared or inferred column types, ISO and formatted timestamps, large files parsed in parallel chunks.',
  params: csvParams,
  extensions: ['.csv', '.tsv'],
  discover: (params, { baseDir }) => discoverCsv(params, baseDir),
  read: (chunk, params, { schema }) => readChunk(chunk as CsvChunk, params, schema),
});

const sinkParams = z.object({
  path: outputPath.describe("Output file (`x.csv`: all partitions in order) or folder (`dir/`: one file per partition), inside the output folder"),
  header: z.boolean().default(true).describe('Whether to write a header line with the column names'),
  delimiter: z.string().refine((s) => s.length === 1 && s.charCodeAt(0) < 128 && !'"\r\n'.includes(s), {
    message: 'must be a single ASCII character other than a quote, CR or LF',
  }).default(',').describe("Field separator (default ',')"),
}).strict();

export const csvSink = defineSink({
  name: 'sink.csv',
  kind: 'sink',
  partitionFiles: (p, partitions) => partitionFiles(p.path, 'csv', partitions),
  version: '1',
  description: 'CSV files: numbers round-trip exactly, timestamps as ISO 8601 UTC, nested values as JSON text.',
  params: sinkParams,
  open: (params, ctx) => fileSink(params.path, 'csv', ctx, csvFormat({ header: params.header, delimiter: params.delimiter })),
});
