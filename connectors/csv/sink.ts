// `sink.csv`: record batches as CSV text (write.ts), one file or one file per partition.
import { z } from 'zod';
import { fileSink, outputPath, partitionFiles } from '../../src/io/file-sink.ts';
import { defineSink } from '../../src/workflow/stage.ts';
import { csvFormat } from './write.ts';

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
