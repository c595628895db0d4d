// `source.parquet` (and sink.ts: `sink.parquet`), with parquet-wasm (the Rust parquet crate built for
// WebAssembly): it reads every codec and encoding that DuckDB, pyarrow and Spark write (snappy,
// zstd, gzip, brotli, lz4, dictionary pages, nested lists) and writes row group by row group.
// Arrow crosses between parquet-wasm and Arrow JS as IPC bytes. test/bench/parquet-libraries.ts
// compares it with parquetjs-lite, hyparquet and DuckDB.
//
// Reading: discover reads each file's footer only (schema, row groups); a chunk is one row group,
// which a worker reads in batches of `batchRows`. Writing: see parquet/writer.ts.
// Damaged files: what parquet-wasm reports, and its panics (parquet/wasm.ts), become InputErrors
// naming the file and the row group.
import { stat } from 'node:fs/promises';
import type * as pw from 'parquet-wasm';
import { Schema } from 'apache-arrow';
import { z } from 'zod';
import { decodeBatches } from '../../src/arrow/ipc.ts';
import { InputError, messageOf } from '../../src/workflow/errors.ts';
import { defineSource, type Chunk } from '../../src/workflow/stage.ts';
import { describeEach, firstReadable, partitionsOf } from '../../src/io/file-discovery.ts';
import { conformBatch, matchFiles, mergeSchema } from '../../src/io/input-files.ts';
import { openParquet, readFooter, type OpenParquet } from './file.ts';
import { checkPages } from './pages.ts';
import { parquetWasm } from './wasm.ts';

const sourceParams = z.object({
  path: z.string().min(1).describe('a Parquet file or a glob; relative to the workflow folder'),
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

// Worker side: files stay open (footer parsed) while their row groups are read.
const openFiles = new Map<string, Promise<OpenParquet>>();

async function cachedFile(path: string, file: string): Promise<OpenParquet> {
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new InputError(file, 'the file is gone');
  const key = `${path}\0${info.size}\0${info.mtimeMs}`;
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
    pending = openParquet(path, file);
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
    const files = await matchFiles(p.path, ctx, p.missing === 'empty');
    if (files.length === 0) return { schema: new Schema([]), partitions: [] };
    const described = await describeEach(files, 8, async (f) => {
      const footer = await readFooter(f.path, f.key, p.columns);
      // The engine plans with these numbers: a damaged footer must not give it negative or absurd ones.
      const bad = footer.groups.findIndex((g) => !(Number.isSafeInteger(g.rows) && g.rows >= 0 && Number.isSafeInteger(g.bytes) && g.bytes >= 0));
      if (bad >= 0) {
        throw new InputError(f.key, `corrupt footer: row group ${bad} says it has ${footer.groups[bad].rows} rows of ${footer.groups[bad].bytes} bytes`);
      }
      return { schema: project(footer.schema, p.columns, f.key), groups: footer.groups };
    });
    const first = firstReadable(described);
    let schema = first.info.schema;
    const partitions = partitionsOf(described, (f, info) => {
      schema = mergeSchema(schema, info.schema, f.key, first.file.key);
      return [{
        key: f.key,
        file: f.path,
        bytes: f.bytes,
        *chunks(): Iterable<ParquetChunk> {
          for (const [rowGroup, g] of info.groups.entries()) yield { path: f.path, rowGroup, rows: g.rows, bytes: g.bytes };
        },
      }];
    });
    return { schema, partitions };
  },
  async *read(raw, p, { schema, partition }) {
    const chunk = raw as ParquetChunk;
    const { wasm, file } = await cachedFile(chunk.path, partition.key);
    await checkPages(chunk.path, partition.key, chunk.rowGroup, p.columns);
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
  },
});
