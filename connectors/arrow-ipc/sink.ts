// `sink.arrow`: Arrow IPC files or streams, each batch encoded and appended as it arrives (writer.ts).
import { z } from 'zod';
import { fileSink, outputPath, partitionFiles } from '../../src/io/file-sink.ts';
import { defineSink } from '../../src/workflow/stage.ts';
import { IpcWriter } from './writer.ts';

const sinkParams = z.object({
  path: outputPath,
  format: z.enum(['file', 'stream']).optional().describe("IPC file (footer, random access) or stream; default: 'stream' for .arrows, else 'file'"),
}).strict();

export const arrowSink = defineSink({
  name: 'sink.arrow',
  kind: 'sink',
  partitionFiles: (p, partitions) => partitionFiles(p.path, p.format === 'stream' ? 'arrows' : 'arrow', partitions),
  version: '1',
  description: 'Writes Arrow IPC files (format: file, the default) or streams (format: stream, the default for .arrows).',
  params: sinkParams,
  open(p, ctx) {
    const format = p.format ?? (p.path.toLowerCase().endsWith('.arrows') ? 'stream' : 'file');
    return fileSink(p.path, format === 'stream' ? 'arrows' : 'arrow', ctx, (file, schema) => IpcWriter.open(file, schema, format));
  },
});
