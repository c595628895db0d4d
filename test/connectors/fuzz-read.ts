// What the fuzz test (fuzz.test.ts) does with each file, inside a worker thread so that a hang
// or a crash cannot take the test process with it: read a source fully, the way a run does
// (discover, then every chunk of every partition, each chunk as a worker gets it: a structured
// clone, the schema decoded from IPC bytes), send the batches through Arrow IPC as they would
// travel back to the main thread, and touch every value. The outcome is plain data.
import { DataType, Type, type Data, type RecordBatch } from 'apache-arrow';
import { arrowSource } from '../../connectors/arrow-ipc/source.ts';
import { csvSource } from '../../connectors/csv/source.ts';
import { dicomSource } from '../../connectors/dicom/source.ts';
import { fitsSource } from '../../connectors/fits/source.ts';
import { niftiSource } from '../../connectors/nifti/source.ts';
import { parquetSource } from '../../connectors/parquet/source.ts';
import { sigmfSource } from '../../connectors/sigmf/source.ts';
import { decodeBatches, decodeSchema, encodeBatches, encodeSchema } from '../../src/arrow/ipc.ts';
import { InputError, UnreadableFile } from '../../src/workflow/errors.ts';
import type { SourceStage } from '../../src/workflow/stage.ts';

export const readers: Record<string, SourceStage> = {
  'source.csv': csvSource,
  'source.parquet': parquetSource,
  'source.arrow': arrowSource,
  'source.fits': fitsSource,
  'source.nifti': niftiSource,
  'source.dicom': dicomSource,
  'source.sigmf': sigmfSource,
};

export interface ReadTask {
  reader: string;
  params: Record<string, unknown>;
  baseDir: string;
}

/** rss: the process's resident memory after the read; peakRss: the most it has had so far (both threads). */
export type ReadOutcome =
  | { ok: true; rows: number; fields: string[]; partitions: number; chunks: number; rss: number; peakRss: number }
  | { ok: false; inputError: boolean; name: string; message: string; stack?: string; rss: number; peakRss: number };

const peakRss = () => process.resourceUsage().maxRSS * 1024;

/**
 * Checks a column's buffers against its length, recursively: what a later stage, a sink or the
 * trip between threads relies on. A buffer too short, an offset out of bounds or a dictionary
 * index past its dictionary is a reader bug (it should have thrown an InputError).
 */
function checkData(data: Data, path: string): void {
  const fail = (why: string): never => {
    throw new Error(`column ${path} (${data.type}): ${why}`);
  };
  const { type, offset, length } = data;
  const end = offset + length;
  if (!(length >= 0 && offset >= 0)) fail(`length ${length}, offset ${offset}`);
  if (data.nullCount > 0 && type.typeId !== Type.Null && (data.nullBitmap?.length ?? 0) * 8 < end) fail('validity bitmap too short');
  const offsets = (last: number) => {
    const o = data.valueOffsets as Int32Array | BigInt64Array;
    if (!o || o.length < end + 1) fail(`${o?.length} offsets for ${length} values`);
    for (let i = offset; i < end; i++) if (Number(o[i]) > Number(o[i + 1])) fail(`offsets decrease at ${i}`);
    if (Number(o[offset]) < 0 || Number(o[end]) > last) fail(`offsets ${o[offset]}..${o[end]} outside 0..${last}`);
    return Number(o[end]);
  };
  switch (type.typeId) {
    case Type.Null:
      return;
    case Type.Bool:
      if (data.values.length * 8 < end) fail('values too short');
      return;
    case Type.Int: case Type.Float: case Type.Date: case Type.Timestamp: case Type.Time: case Type.Duration:
    case Type.Interval: case Type.Decimal: case Type.FixedSizeBinary:
      if (data.values.length < end * data.stride) fail(`${data.values.length} values for ${length} rows of stride ${data.stride}`);
      break;
    case Type.Utf8: case Type.Binary: case Type.LargeUtf8: case Type.LargeBinary:
      offsets(data.values.length);
      break;
    case Type.List: case Type.LargeList: case Type.Map:
      offsets(data.children[0].length);
      checkData(data.children[0], `${path}.item`);
      return;
    case Type.FixedSizeList: {
      const size = (type as unknown as { listSize: number }).listSize;
      if (data.children[0].length < end * size) fail('child too short');
      checkData(data.children[0], `${path}.item`);
      return;
    }
    case Type.Struct:
      data.children.forEach((child, i) => {
        if (child.length < end) fail(`child ${i} too short`);
        checkData(child, `${path}.${type.children[i].name}`);
      });
      return;
    case Type.Dictionary: {
      const dictionary = data.dictionary!;
      if (!dictionary) fail('no dictionary');
      for (const d of dictionary.data) checkData(d, `${path}.dictionary`);
      for (let i = offset; i < end; i++) {
        const index = Number(data.values[i]);
        if (data.getValid(i - offset) && !(index >= 0 && index < dictionary.length)) fail(`index ${index} at row ${i - offset} outside its ${dictionary.length}-entry dictionary`);
      }
      return;
    }
  }
}

/** Every value of a batch, checked and read out. */
function touch(batch: RecordBatch): void {
  for (let c = 0; c < batch.numCols; c++) {
    const column = batch.getChildAt(c)!;
    if (column.length !== batch.numRows) throw new Error(`column ${c} has ${column.length} values in a batch of ${batch.numRows} rows`);
    for (const data of column.data) checkData(data, batch.schema.fields[c].name);
    // Values out of a JS number's range (a damaged int64 timestamp) are valid Arrow; Arrow JS
    // cannot turn them into numbers, so those columns are checked above, not read.
    if (DataType.isTimestamp(column.type) || DataType.isDate(column.type)) continue;
    for (let i = 0; i < column.length; i++) {
      const v = column.get(i);
      if (v !== null && typeof v === 'object') JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? String(x) : x));
    }
  }
}

export async function readFully(task: ReadTask): Promise<{ rows: number; fields: string[]; partitions: number; chunks: number }> {
  const stage = readers[task.reader];
  const params = stage.params.parse(task.params);
  const { schema, partitions } = await stage.discover(params, { baseDir: task.baseDir });
  const declared = decodeSchema(encodeSchema(schema));
  let rows = 0;
  let chunks = 0;
  for (const [index, partition] of partitions.entries()) {
    for await (const chunk of partition.chunks()) {
      chunks++;
      if (chunk.unreadable !== undefined) throw new UnreadableFile(partition.key, chunk.unreadable);
      const batches: RecordBatch[] = [];
      for await (const batch of stage.read(structuredClone(chunk), params, { schema: declared, partition: { index, key: partition.key } })) {
        if (batch.schema !== declared) throw new Error('a batch does not carry the declared schema');
        batches.push(batch);
      }
      const travelled = decodeBatches(encodeBatches(declared, batches)).batches;
      const sent = batches.reduce((n, b) => n + b.numRows, 0);
      const received = travelled.reduce((n, b) => n + b.numRows, 0);
      if (sent !== received) throw new Error(`${sent} rows were sent, ${received} came back`);
      for (const batch of travelled) touch(batch);
      rows += sent;
    }
  }
  return { rows, fields: schema.fields.map((f) => `${f.name}: ${f.type}`), partitions: partitions.length, chunks };
}

export async function outcomeOf(task: ReadTask): Promise<ReadOutcome> {
  try {
    const result = await readFully(task);
    return { ok: true, ...result, rss: process.memoryUsage.rss(), peakRss: peakRss() };
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    return { ok: false, inputError: error instanceof InputError, name: e.constructor?.name ?? e.name, message: e.message, stack: e.stack, rss: process.memoryUsage.rss(), peakRss: peakRss() };
  }
}
