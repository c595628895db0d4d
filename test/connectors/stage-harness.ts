// Drives a source or a sink stage the way the engine does, without the engine: chunks listed on
// this thread, each read as a worker gets it (a structured clone, the schema decoded from IPC bytes).
import type { RecordBatch, Schema } from 'apache-arrow';
import { expect } from 'vitest';
import { decodeSchema, encodeSchema } from '../../src/arrow/ipc.ts';
import { UnreadableFile } from '../../src/workflow/errors.ts';
import type { SinkStage, SourceStage } from '../../src/workflow/stage.ts';

export async function readSource(stage: SourceStage, params: unknown, baseDir: string) {
  const parsed = stage.params.parse(params);
  const { schema, partitions } = await stage.discover(parsed, { baseDir });
  const declared = decodeSchema(encodeSchema(schema));
  const out: { key: string; chunks: number; batches: RecordBatch[] }[] = [];
  for (const [index, partition] of partitions.entries()) {
    const batches: RecordBatch[] = [];
    let chunks = 0;
    for await (const chunk of partition.chunks()) {
      chunks++;
      if (chunk.unreadable !== undefined) throw new UnreadableFile(partition.key, chunk.unreadable);
      for await (const batch of stage.read(structuredClone(chunk), parsed, { schema: declared, partition: { index, key: partition.key } })) {
        expect(batch.schema).toBe(declared);
        batches.push(batch);
      }
    }
    out.push({ key: partition.key, chunks, batches });
  }
  return { schema, partitions: out };
}

/** Writes partitions (lists of batches) through a sink and commits; partition keys end in `extension`. */
export async function writeSink(stage: SinkStage, params: unknown, schema: Schema, partitions: RecordBatch[][], outDir: string, extension: string) {
  const writer = await stage.open(stage.params.parse(params), { schema, outDir, stageId: 'out' });
  for (const [index, batches] of partitions.entries()) {
    const info = { index, key: `part-${index}.${extension}` };
    await writer.startPartition(info);
    for (const batch of batches) await writer.write(batch);
    await writer.endPartition(info);
  }
  return writer.commit();
}
