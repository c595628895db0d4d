// Reading a run's output files for previews, through the same connectors a workflow reads them
// with (so the same types): the first rows only, chunk by chunk, stopping as soon as enough are in.
import { stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { RecordBatch, Schema } from 'apache-arrow';
import { arrowSource } from '../../../connectors/arrow-ipc/source.ts';
import { csvSource } from '../../../connectors/csv/source.ts';
import { fitsSource } from '../../../connectors/fits/source.ts';
import { niftiSource } from '../../../connectors/nifti/source.ts';
import { parquetSource } from '../../../connectors/parquet/source.ts';
import type { Chunk, SourcePartition, SourceStage } from '../../workflow/stage.ts';

const readers: SourceStage[] = [csvSource, parquetSource, arrowSource, fitsSource, niftiSource];
const tableReaders = new Set<SourceStage>([csvSource, parquetSource, arrowSource]);

/** The connector that reads `file` by its name, if any. */
export function readerFor(file: string): SourceStage | undefined {
  const name = file.toLowerCase();
  return readers.find((r) => (r.extensions ?? []).some((e) => name.endsWith(e) || name.endsWith(`${e}.gz`)));
}

export const isTableFile = (file: string): boolean => {
  const reader = readerFor(file);
  return reader !== undefined && tableReaders.has(reader);
};

export interface OpenOutput {
  schema: Schema;
  partition: SourcePartition | undefined;
  reader: SourceStage;
  params: unknown;
}

export async function openOutput(file: string): Promise<OpenOutput> {
  const reader = readerFor(file);
  if (!reader) throw new Error(`no connector reads ${basename(file)}`);
  const info = await stat(file).catch(() => undefined);
  if (!info) throw new Error(`${basename(file)} is missing`);
  if (!info.isFile()) throw new Error(`${basename(file)} is not a file`);
  const params = reader.params.parse({ path: file });
  const { schema, partitions } = await reader.discover(params, { baseDir: dirname(file) });
  const partition = partitions[0];
  if (partition?.unreadable) throw new Error(partition.unreadable);
  return { schema, partition, reader, params };
}

/** Batches of the output in order, from its first chunk on; the caller stops when it has enough. */
export async function* outputBatches(open: OpenOutput): AsyncGenerator<RecordBatch> {
  const { partition, reader, params, schema } = open;
  if (!partition) return;
  for await (const chunk of partition.chunks()) {
    yield* reader.read(chunk, params, { schema, partition: { index: 0, key: partition.key } });
  }
}

/** The rows of every chunk when each says how many it has (Parquet row groups), without reading them. */
export async function declaredRows(open: OpenOutput): Promise<number | undefined> {
  if (!open.partition) return 0;
  let total = 0;
  for await (const chunk of open.partition.chunks() as AsyncIterable<Chunk & { rows?: unknown }>) {
    if (typeof chunk.rows !== 'number') return undefined;
    total += chunk.rows;
  }
  return total;
}

/** The first `rows` rows (at least), as batches; `more` says whether rows were left unread. */
export async function firstBatches(open: OpenOutput, rows: number): Promise<{ batches: RecordBatch[]; rows: number; more: boolean }> {
  const batches: RecordBatch[] = [];
  let have = 0;
  for await (const batch of outputBatches(open)) {
    if (have >= rows) return { batches, rows: have, more: true };
    batches.push(batch);
    have += batch.numRows;
  }
  return { batches, rows: have, more: false };
}
