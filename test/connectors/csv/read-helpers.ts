// Reading through source.csv the way the engine does (discover on the main thread, then every
// chunk of every partition through read), without worker threads.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Table, type RecordBatch, type Schema } from 'apache-arrow';
import { csvSource } from '../../../connectors/csv/source.ts';
import type { CsvChunk } from '../../../connectors/csv/chunks.ts';

export interface ReadResult {
  schema: Schema;
  batches: RecordBatch[];
  table: Table;
  chunks: CsvChunk[];
}

export async function readCsv(params: Record<string, unknown>, baseDir: string): Promise<ReadResult> {
  const p = csvSource.params.parse(params);
  const { schema, partitions } = await csvSource.discover(p, { baseDir });
  const batches: RecordBatch[] = [];
  const chunks: CsvChunk[] = [];
  for (const [index, partition] of partitions.entries()) {
    for await (const chunk of partition.chunks()) {
      chunks.push(chunk as CsvChunk);
      for await (const batch of csvSource.read(chunk, p, { schema, partition: { index, key: partition.key } })) batches.push(batch);
    }
  }
  return { schema, batches, table: new Table(schema, batches), chunks };
}

/** Writes `text` to dir/name and returns the name. */
export function writeCsv(dir: string, name: string, text: string | Uint8Array): string {
  writeFileSync(join(dir, name), text);
  return name;
}

/** The message of the error `promise` rejects with. */
export async function errorOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected an error');
}

/** A column's values as plain JS (bigint → number when safe, timestamps as ISO text). */
export function values(table: Table, column: string): unknown[] {
  const vector = table.getChild(column)!;
  const type = String(vector.type);
  return Array.from({ length: table.numRows }, (_, i) => {
    const v = vector.get(i);
    if (v === null) return null;
    if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v;
    if (type.startsWith('Timestamp') && typeof v === 'number') return new Date(v).toISOString();
    return v;
  });
}
