// `sink.parquet`: Parquet written row group by row group as batches arrive (writer.ts, parquet-wasm).
import { z } from 'zod';
import { fileSink, outputPath, partitionFiles } from '../../src/io/file-sink.ts';
import { defineSink } from '../../src/workflow/stage.ts';
import { ParquetStreamWriter, compressions, type CompressionName } from './writer.ts';

const sinkParams = z.object({
  path: outputPath,
  compression: z.enum(Object.keys(compressions) as [CompressionName, ...CompressionName[]]).default('snappy'),
  rowGroupRows: z.number().int().min(1).default(122_880).describe('rows per row group'),
  dictionary: z.enum(['auto', 'always', 'never']).default('auto')
    .describe('dictionary-encode columns: auto = all but floating-point ones, whose values rarely repeat'),
}).strict();

export const parquetSink = defineSink({
  name: 'sink.parquet',
  kind: 'sink',
  partitionFiles: (p, partitions) => partitionFiles(p.path, 'parquet', partitions),
  version: '1',
  description: 'Writes Parquet, row group by row group as batches arrive (snappy by default).',
  params: sinkParams,
  open(p, ctx) {
    return fileSink(p.path, 'parquet', ctx, (file, schema) => ParquetStreamWriter.open(file, schema, p));
  },
});
