// `source.parquet` (and sink.ts: `sink.parquet`), with parquet-wasm (the Rust parquet crate built for
// WebAssembly): it reads every codec and encoding that DuckDB, pyarrow and Spark write (snappy,
// zstd, gzip, brotli, lz4, dictionary pages, nested lists) and writes row group by row group.
// Arrow crosses between parquet-wasm and Arrow JS as IPC bytes. test/bench/parquet-libraries.ts
// compares it with parquetjs-lite, hyparquet and DuckDB.
//
// Reading: discover reads each file's footer only (schema, row groups); a chunk is one row group,
// which a worker reads in batches of `batchRows`. Writing: see parquet/writer.ts.
// In S3 (`path: s3://bucket/prefix/*.parquet`): discover lists the objects and reads each footer by
// a ranged GET; a chunk carries the object's reference and its row group's byte range, which the
// worker fetches (one GET, the footer another) and decodes: never the whole object.
// Damaged files: what parquet-wasm reports, and its panics (parquet/wasm.ts), become InputErrors
// naming the file and the row group.
import { stat } from 'node:fs/promises';
import { fileBytes } from '../../src/io/byte-reader.ts';
import { matchS3Objects } from '../../src/io/s3-inputs.ts';
import { S3ObjectBytes, s3Identity, s3Url, transientS3, type S3ObjectRef } from '../../src/io/s3-object.ts';
import { isS3 } from '../../src/io/s3-url.ts';
import type * as pw from 'parquet-wasm';
import { Schema } from 'apache-arrow';
import { z } from 'zod';
import { decodeBatches } from '../../src/arrow/ipc.ts';
import { InputError, messageOf } from '../../src/workflow/errors.ts';
import { defineSource, type Chunk } from '../../src/workflow/stage.ts';
import { describeEach, firstReadable, partitionsOf } from '../../src/io/file-discovery.ts';
import { conformBatch, matchFiles, mergeSchema, type InputFile } from '../../src/io/input-files.ts';
import { checkParquetFile, openParquet, readFooter, type FooterInfo, type OpenParquet } from './file.ts';
import { checkPages, rowGroupSpans } from './pages.ts';
import { parquetWasm } from './wasm.ts';

const sourceParams = z.object({
  path: z.string().min(1).describe('a Parquet file or a glob, relative to the workflow folder; or s3://bucket/key-glob'),
  columns: z.array(z.string().min(1)).min(1).optional().describe('read only these columns, in this order'),
  batchRows: z.number().int().min(1).default(65_536).describe('rows per batch'),
  missing: z.enum(['error', 'empty']).default('error')
    .describe("no matching file: an error, or (empty) no rows and no columns — a record a scheduled workflow's first run has yet to write"),
}).strict();

interface ParquetChunk extends Chunk {
  path: string;
  rowGroup: number;
  rows: number;
  bytes: number;
  /** In S3: the object, the bytes its footer takes at the end, and the row group's bytes [start, end). */
  s3?: S3ObjectRef & { tail: number; start: number; end: number };
}

/** Footer info, and for an S3 object what its chunks carry. */
type Described = FooterInfo & { s3?: { ref: S3ObjectRef; tail: number; spans: [number, number][] } };

/** Footers bigger than this take a second GET. */
const FOOTER_GUESS = 64 * 1024;

/** Reads the footer of `f`, a local file or an S3 object (by ranged GETs of its end). */
async function describe(f: InputFile, columns: string[] | undefined): Promise<Described> {
  if (!f.object) {
    const bytes = await fileBytes(f.path, f.key);
    try {
      return await readFooter(bytes, columns);
    } finally {
      await bytes.close();
    }
  }
  const bytes = new S3ObjectBytes(f.object);
  await bytes.load(f.object.size - FOOTER_GUESS, f.object.size, 'the footer');
  const tail = await checkParquetFile(bytes);
  await bytes.load(f.object.size - tail, f.object.size, 'the footer');
  const footer = await readFooter(bytes, columns);
  return { ...footer, s3: { ref: bytes.ref, tail, spans: await rowGroupSpans(bytes, columns) } };
}

/** The schema with only `columns`, in that order. */
function project(schema: Schema, columns: string[] | undefined, file: string): Schema {
  if (!columns) return schema;
  const seen = new Set<string>();
  return new Schema(columns.map((name) => {
    if (seen.has(name)) throw new Error(`columns: '${name}' is listed twice`);
    seen.add(name);
    const field = schema.fields.find((f) => f.name === name);
    if (!field) throw new InputError(file, `has no column '${name}' (columns: ${schema.fields.map((f) => f.name).join(', ')})`);
    return field;
  }), schema.metadata);
}

// Worker side: files stay open (footer parsed) while their row groups are read. An S3 object's
// reader stays with it, holding the footer's bytes.
interface Opened extends OpenParquet {
  s3?: S3ObjectBytes;
}
const openFiles = new Map<string, Promise<Opened>>();

/** The chunk's file or object, opened (or as opened before, while unchanged). */
async function openOf(chunk: ParquetChunk, file: string): Promise<Opened> {
  const { s3 } = chunk;
  if (s3) {
    return cachedFile(`${s3Url(s3)}\0${s3Identity(s3)}`, async () => {
      const bytes = new S3ObjectBytes(s3);
      await bytes.load(s3.size - s3.tail, s3.size, 'the footer');
      return { ...(await openParquet(bytes, true)), s3: bytes };
    });
  }
  const info = await stat(chunk.path).catch(() => undefined);
  if (!info) throw new InputError(file, 'the file is gone');
  return cachedFile(`${chunk.path}\0${info.size}\0${info.mtimeMs}`, async () => {
    const bytes = await fileBytes(chunk.path, file);
    try {
      return await openParquet(bytes);
    } finally {
      await bytes.close();
    }
  });
}

/**
 * Checks the row group's page headers before it is decoded; in S3, after fetching its bytes in one
 * GET, which the checks and decoding then read from.
 */
async function checkRowGroup(chunk: ParquetChunk, name: string, columns: string[] | undefined, s3: S3ObjectBytes | undefined): Promise<void> {
  if (s3) {
    await s3.load(chunk.s3!.start, chunk.s3!.end, `row group ${chunk.rowGroup}`);
    return checkPages(s3, chunk.rowGroup, columns);
  }
  const bytes = await fileBytes(chunk.path, name);
  try {
    await checkPages(bytes, chunk.rowGroup, columns);
  } finally {
    await bytes.close();
  }
}

async function cachedFile(key: string, open: () => Promise<Opened>): Promise<Opened> {
  const cached = openFiles.get(key);
  if (cached) {
    const open = await cached;
    // Opened in an instance of parquet-wasm that has since panicked (or been replaced): open it again.
    if (!open.wasm.panic && open.wasm === parquetWasm()) return open;
    if (openFiles.get(key) === cached) openFiles.delete(key);
  }
  let pending = openFiles.get(key);
  if (!pending) {
    if (openFiles.size >= 8) openFiles.delete(openFiles.keys().next().value!);
    pending = open();
    openFiles.set(key, pending);
    pending.catch(() => openFiles.delete(key));
  }
  return pending;
}

export const parquetSource = defineSource({
  name: 'source.parquet',
  kind: 'source',
  version: '1',
  description: 'Parquet files (any codec, dictionary pages, nested lists); one partition per file, one chunk per row group.',
  extensions: ['.parquet', '.pq'],
  params: sourceParams,
  async discover(p, ctx) {
    const files = isS3(p.path) ? await matchS3Objects(p.path, p.missing === 'empty') : await matchFiles(p.path, ctx, p.missing === 'empty');
    if (files.length === 0) return { schema: new Schema([]), partitions: [] };
    const described = await describeEach(files, 8, async (f) => {
      const footer = await describe(f, p.columns);
      // The engine plans with these numbers: a damaged footer must not give it negative or absurd ones.
      const bad = footer.groups.findIndex((g) => !(Number.isSafeInteger(g.rows) && g.rows >= 0 && Number.isSafeInteger(g.bytes) && g.bytes >= 0));
      if (bad >= 0) {
        throw new InputError(f.key, `corrupt footer: row group ${bad} says it has ${footer.groups[bad].rows} rows of ${footer.groups[bad].bytes} bytes`);
      }
      return { ...footer, schema: project(footer.schema, p.columns, f.key) };
    });
    // The server unreachable or failing is no fault of one object's: the run fails, to be tried again.
    const down = described.find((d) => 'error' in d && transientS3(d.error));
    if (down) throw (down as { error: unknown }).error;
    const first = firstReadable(described);
    let schema = first.info.schema;
    const partitions = partitionsOf(described, (f, info) => {
      schema = mergeSchema(schema, info.schema, f.key, first.file.key);
      const s3 = info.s3;
      return [{
        key: f.key,
        ...(s3 ? { object: s3.ref } : { file: f.path }),
        bytes: f.bytes,
        *chunks(): Iterable<ParquetChunk> {
          for (const [rowGroup, g] of info.groups.entries()) {
            const where = s3 && { s3: { ...s3.ref, tail: s3.tail, start: s3.spans[rowGroup][0], end: s3.spans[rowGroup][1] } };
            yield { path: f.path, rowGroup, rows: g.rows, bytes: g.bytes, ...where };
          }
        },
      }];
    });
    return { schema, partitions };
  },
  async *read(raw, p, { schema, partition }) {
    const chunk = raw as ParquetChunk;
    const { wasm, file, s3 } = await openOf(chunk, partition.key);
    try {
      await checkRowGroup(chunk, partition.key, p.columns, s3);
      // Whatever parquet-wasm or Arrow JS throws on a damaged row group (a panic included) is the file's fault.
      const corrupt = (error: unknown) =>
        error instanceof InputError ? error : new InputError(partition.key, `row group ${chunk.rowGroup}: ${messageOf(error)}`);
      let reader: ReadableStreamDefaultReader<pw.RecordBatch>;
      try {
        const stream = await wasm.run(() => file.stream({ rowGroups: [chunk.rowGroup], batchSize: p.batchRows, columns: p.columns }));
        reader = stream.getReader() as ReadableStreamDefaultReader<pw.RecordBatch>;
      } catch (error) {
        throw corrupt(error);
      }
      let rows = 0;
      let done = false;
      try {
        for (;;) {
          let batches;
          try {
            batches = await wasm.run(async () => {
              const next = await reader.read();
              return next.done ? undefined : decodeBatches(next.value.intoIPCStream()).batches;
            });
          } catch (error) {
            throw corrupt(error);
          }
          if (!batches) {
            done = true;
            break;
          }
          for (const batch of batches) {
            rows += batch.numRows;
            yield conformBatch(batch, schema);
          }
        }
      } finally {
        // After a panic the stream is dead: cancelling it would call into the broken instance.
        if (!done && !wasm.panic) await reader.cancel().catch(() => undefined);
        try {
          reader.releaseLock();
        } catch {
          // a read left pending by a panic: nothing to release
        }
      }
      if (rows !== chunk.rows) {
        throw new InputError(partition.key, `row group ${chunk.rowGroup}: the footer says ${chunk.rows} rows, ${rows} were read`);
      }
    } finally {
      s3?.release(chunk.s3!.start);
    }
  },
});
