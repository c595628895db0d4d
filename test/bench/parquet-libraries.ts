// Which Parquet library for quiver? Writes and reads 1e6 rows (4 float64, 1 int32, 1 utf8) with
// parquet-wasm (directly, and through quiver's streaming sink.parquet / source.parquet),
// parquetjs-lite and hyparquet (read only), with DuckDB's COPY as the baseline; then checks which
// of them read files DuckDB writes (ZSTD or SNAPPY, with dictionary-encoded strings), comparing
// the values with DuckDB's. Prints a table; asserts nothing.
//
//   node --import tsx test/bench/parquet-libraries.ts [--rows 1000000] [--reps 3]
//
// parquetjs-lite, hyparquet and hyparquet-compressors are devDependencies used only here; a
// library that is not installed is reported as such.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Field, Float64, Int32, RecordBatch, Schema, Struct, Table, Utf8, makeData, tableFromIPC, tableToIPC } from 'apache-arrow';
import * as pw from 'parquet-wasm';
import { parquetSource } from '../../connectors/parquet/source.ts';
import { parquetSink } from '../../connectors/parquet/sink.ts';
import { decodeSchema, encodeSchema } from '../../src/arrow/ipc.ts';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const ROWS = arg('rows', 1_000_000);
const REPS = arg('reps', 3);
const dir = mkdtempSync(join(tmpdir(), 'quiver-bench-parquet-'));

// ---- the data: 4 float64, 1 int32, 1 utf8 ---------------------------------------------------
const schema = new Schema([
  ...[0, 1, 2, 3].map((k) => new Field(`f${k}`, new Float64(), false)),
  new Field('i', new Int32(), false),
  new Field('s', new Utf8(), false),
]);
let seed = 42;
const random = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 4294967296);
const label = (i: number) => `station-${(i * 7919) % 5000}`;

function makeTable(rows: number, batchRows = 65_536): Table {
  const batches: RecordBatch[] = [];
  const encoder = new TextEncoder();
  for (let start = 0; start < rows; start += batchRows) {
    const n = Math.min(batchRows, rows - start);
    const floats = [0, 1, 2, 3].map(() => Float64Array.from({ length: n }, random));
    const ints = Int32Array.from({ length: n }, (_, k) => start + k);
    const offsets = new Int32Array(n + 1);
    const parts: string[] = [];
    for (let k = 0; k < n; k++) {
      const s = label(start + k);
      parts.push(s);
      offsets[k + 1] = offsets[k] + s.length; // ASCII
    }
    const children = [
      ...floats.map((data) => makeData({ type: new Float64(), length: n, nullCount: 0, data })),
      makeData({ type: new Int32(), length: n, nullCount: 0, data: ints }),
      makeData({ type: new Utf8(), length: n, nullCount: 0, valueOffsets: offsets, data: encoder.encode(parts.join('')) }),
    ];
    batches.push(new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: n, nullCount: 0, children })));
  }
  return new Table(schema, batches);
}

// ---- timing --------------------------------------------------------------------------------
async function time(fn: () => Promise<unknown> | unknown, reps = REPS, warmUp = true): Promise<number> {
  if (warmUp) await fn(); // JIT, wasm compile
  const runs: number[] = [];
  for (let r = 0; r < reps; r++) {
    const started = performance.now();
    await fn();
    runs.push((performance.now() - started) / 1000);
  }
  runs.sort((a, b) => a - b);
  return runs[Math.floor(runs.length / 2)];
}

async function optional<T>(name: string): Promise<T | undefined> {
  try {
    return (await import(name)) as T;
  } catch {
    return undefined;
  }
}

// One DuckDB instance for the whole run, so its start-up is not timed.
const { DuckDBInstance } = await import('@duckdb/node-api');
const duckInstance = await DuckDBInstance.create(':memory:');
const duckConnection = await duckInstance.connect();
async function duck(sql: string): Promise<unknown[][]> {
  return (await duckConnection.runAndReadAll(sql)).getRows() as unknown[][];
}

interface Row {
  library: string;
  write?: number | string;
  read?: number | string;
  mb?: number;
  zstd?: string;
  snappy?: string;
  note?: string;
}

const rows: Row[] = [];
const table = makeTable(ROWS);
const sumF0 = table.getChild('f0')!.toArray().reduce((a: number, b: number) => a + b, 0);
console.log(`${ROWS.toLocaleString('en')} rows (4 float64, int32, utf8), median of ${REPS} after a warm-up; files in ${dir}`);

// ---- files DuckDB writes: can each library read them? -----------------------------------------
const compatRows = 20_000;
const compat: Record<'zstd' | 'snappy', string> = { zstd: join(dir, 'duck-zstd.parquet'), snappy: join(dir, 'duck-snappy.parquet') };
for (const [codec, path] of Object.entries(compat)) {
  await duck(`COPY (SELECT (i * 0.5)::DOUBLE AS x, i::INTEGER AS i, 'category-' || (i % 17) AS s FROM range(${compatRows}) t(i))
    TO '${path}' (FORMAT PARQUET, COMPRESSION ${codec.toUpperCase()}, ROW_GROUP_SIZE 8192)`);
}
const expected = { sumX: (compatRows * (compatRows - 1)) / 4, lastS: `category-${(compatRows - 1) % 17}` };

/** Runs a reader on a DuckDB file with a time limit; says whether the values came out right. */
async function tryRead(read: (path: string) => Promise<{ sumX: number; lastS: string; rows: number }>, path: string): Promise<string> {
  const started = performance.now();
  try {
    const got = await Promise.race([
      read(path),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('gave up after 60 s')), 60_000).unref()),
    ]);
    const ok = got.rows === compatRows && got.sumX === expected.sumX && got.lastS === expected.lastS;
    return ok ? `yes (${((performance.now() - started) / 1000).toFixed(2)} s)` : `WRONG VALUES (${got.rows} rows, sum ${got.sumX}, '${got.lastS}')`;
  } catch (error) {
    return `no: ${(error instanceof Error ? error.message : String(error)).split('\n')[0].slice(0, 60)}`;
  }
}

// ---- DuckDB (baseline) -------------------------------------------------------------------------
{
  const path = join(dir, 'duckdb.parquet');
  const write = await time(() => duck(`COPY (SELECT random() AS f0, random() AS f1, random() AS f2, random() AS f3, i::INTEGER AS i,
    'station-' || ((i * 7919) % 5000) AS s FROM range(${ROWS}) t(i)) TO '${path}' (FORMAT PARQUET, COMPRESSION SNAPPY)`));
  const read = await time(() => duck(`SELECT sum(f0), sum(f1), sum(f2), sum(f3), sum(i), count(s), max(s) FROM '${path}'`));
  rows.push({ library: 'DuckDB COPY (baseline, in C++)', write, read, mb: statSync(path).size / 1e6, zstd: 'yes', snappy: 'yes',
    note: 'generates its own data; reads into DuckDB, not Arrow JS' });
}

// ---- parquet-wasm ------------------------------------------------------------------------------
{
  const path = join(dir, 'parquet-wasm.parquet');
  const properties = () => new pw.WriterPropertiesBuilder().setCompression(pw.Compression.SNAPPY).build();
  const write = await time(() => {
    const wasmTable = pw.Table.fromIPCStream(tableToIPC(table, 'stream'));
    writeFileSync(path, pw.writeParquet(wasmTable, properties()));
  });
  const read = await time(() => {
    const t = tableFromIPC(pw.readParquet(readFileSync(path)).intoIPCStream());
    if (t.numRows !== ROWS) throw new Error('parquet-wasm read the wrong number of rows');
  });
  const readWith = async (p: string) => {
    const t = tableFromIPC(pw.readParquet(readFileSync(p)).intoIPCStream());
    const x = t.getChild('x')!.toArray() as Float64Array;
    return { rows: t.numRows, sumX: x.reduce((a, b) => a + b, 0), lastS: t.getChild('s')!.get(t.numRows - 1) as string };
  };
  rows.push({ library: 'parquet-wasm 0.8 (whole table)', write, read, mb: statSync(path).size / 1e6,
    zstd: await tryRead(readWith, compat.zstd), snappy: await tryRead(readWith, compat.snappy), note: 'Arrow JS ⇄ IPC bytes ⇄ wasm' });
}

// ---- quiver: sink.parquet (transformParquetStream) and source.parquet (row group by row group) --
{
  const outDir = join(dir, 'quiver');
  const write = await time(async () => {
    const writer = await parquetSink.open(parquetSink.params.parse({ path: 'q.parquet' }), { schema, outDir, stageId: 'bench' });
    await writer.startPartition({ index: 0, key: 'bench' });
    for (const batch of table.batches) await writer.write(batch);
    await writer.endPartition({ index: 0, key: 'bench' });
    await writer.commit();
  });
  const readAll = async (baseDir: string, path: string) => {
    const params = parquetSource.params.parse({ path });
    const { schema: found, partitions } = await parquetSource.discover(params, { baseDir });
    const declared = decodeSchema(encodeSchema(found));
    const batches: RecordBatch[] = [];
    for (const [index, partition] of partitions.entries()) {
      for await (const chunk of partition.chunks()) {
        for await (const b of parquetSource.read(chunk, params, { schema: declared, partition: { index, key: partition.key } })) batches.push(b);
      }
    }
    return new Table(batches);
  };
  const read = await time(async () => {
    const t = await readAll(outDir, 'q.parquet');
    if (t.numRows !== ROWS) throw new Error('source.parquet read the wrong number of rows');
    const got = (t.getChild('f0')!.toArray() as Float64Array).reduce((a, b) => a + b, 0);
    if (Math.abs(got - sumF0) > 1e-6 * ROWS) throw new Error('source.parquet read other values');
  });
  const readWith = async (p: string) => {
    const t = await readAll(dir, p.slice(dir.length + 1));
    const x = t.getChild('x')!.toArray() as Float64Array;
    return { rows: t.numRows, sumX: x.reduce((a, b) => a + b, 0), lastS: t.getChild('s')!.get(t.numRows - 1) as string };
  };
  rows.push({ library: 'quiver sink/source.parquet (parquet-wasm)', write, read, mb: statSync(join(outDir, 'q.parquet')).size / 1e6,
    zstd: await tryRead(readWith, compat.zstd), snappy: await tryRead(readWith, compat.snappy), note: 'streaming: row groups of 122,880 rows; one thread' });
}

// ---- hyparquet (read only) ------------------------------------------------------------------
{
  type Hyparquet = typeof import('hyparquet');
  const hyparquet = await optional<Hyparquet>('hyparquet');
  const compressors = (await optional<{ compressors: Record<string, unknown> }>('hyparquet-compressors'))?.compressors;
  if (!hyparquet) {
    rows.push({ library: 'hyparquet', note: 'not installed (npm install -D hyparquet hyparquet-compressors)' });
  } else {
    const file = (p: string) => {
      const bytes = readFileSync(p);
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    };
    /** Columns as the arrays hyparquet decodes (one per page run; typed arrays where it can), not Arrow. */
    const columns = async (p: string) => {
      const out = new Map<string, ArrayLike<unknown>[]>();
      await hyparquet.parquetRead({
        file: file(p), compressors: compressors as never,
        onChunk: ({ columnName, columnData }) => {
          const list = out.get(columnName) ?? [];
          list.push(columnData as ArrayLike<unknown>);
          out.set(columnName, list);
        },
      });
      return out;
    };
    const length = (chunks: ArrayLike<unknown>[] = []) => chunks.reduce((n, c) => n + c.length, 0);
    const source = join(dir, 'parquet-wasm.parquet');
    const read = await time(async () => {
      const got = await columns(source);
      if (length(got.get('i')) !== ROWS) throw new Error('hyparquet read the wrong number of rows');
    });
    const readWith = async (p: string) => {
      const got = await columns(p);
      let sumX = 0;
      for (const chunk of got.get('x') ?? []) for (let k = 0; k < chunk.length; k++) sumX += chunk[k] as number;
      const s = got.get('s') ?? [];
      const last = s[s.length - 1];
      return { rows: length(got.get('x')), sumX, lastS: String(last?.[last.length - 1]) };
    };
    rows.push({ library: 'hyparquet 1.33 (+ compressors)', write: 'cannot', read, zstd: await tryRead(readWith, compat.zstd), snappy: await tryRead(readWith, compat.snappy),
      note: 'reads the parquet-wasm file into JS arrays, not Arrow' });
  }
}

// ---- parquetjs-lite -------------------------------------------------------------------------------
{
  interface ParquetJs {
    ParquetSchema: new (fields: Record<string, unknown>) => unknown;
    ParquetWriter: { openFile(schema: unknown, path: string, options?: unknown): Promise<{ appendRow(row: unknown): Promise<void>; close(): Promise<void> }> };
    ParquetReader: { openFile(path: string): Promise<{ getCursor(): { next(): Promise<Record<string, unknown> | null> }; close(): Promise<void> }> };
  }
  const mod = await optional<ParquetJs & { default?: ParquetJs }>('parquetjs-lite');
  const parquet = mod?.default ?? mod;
  if (!parquet) {
    rows.push({ library: 'parquetjs-lite', note: 'not installed (npm install -D parquetjs-lite)' });
  } else {
    const path = join(dir, 'parquetjs.parquet');
    const pqSchema = new parquet.ParquetSchema({
      f0: { type: 'DOUBLE', compression: 'SNAPPY' }, f1: { type: 'DOUBLE', compression: 'SNAPPY' },
      f2: { type: 'DOUBLE', compression: 'SNAPPY' }, f3: { type: 'DOUBLE', compression: 'SNAPPY' },
      i: { type: 'INT32', compression: 'SNAPPY' }, s: { type: 'UTF8', compression: 'SNAPPY' },
    });
    const f = [0, 1, 2, 3].map((k) => table.getChild(`f${k}`)!.toArray() as Float64Array);
    const ints = table.getChild('i')!.toArray() as Int32Array;
    // seconds per run: one run, no warm-up
    const write = await time(async () => {
      rmSync(path, { force: true });
      const writer = await parquet.ParquetWriter.openFile(pqSchema, path, { rowGroupSize: 122_880 });
      for (let r = 0; r < ROWS; r++) await writer.appendRow({ f0: f[0][r], f1: f[1][r], f2: f[2][r], f3: f[3][r], i: ints[r], s: label(r) });
      await writer.close();
    }, 1, false);
    const readAll = async (p: string, visit?: (row: Record<string, unknown>) => void) => {
      const reader = await parquet.ParquetReader.openFile(p);
      const cursor = reader.getCursor();
      let n = 0;
      for (let row = await cursor.next(); row; row = await cursor.next()) {
        visit?.(row);
        n++;
      }
      await reader.close();
      return n;
    };
    const read = await time(async () => {
      if ((await readAll(path)) !== ROWS) throw new Error('parquetjs-lite read the wrong number of rows');
    }, 1, false);
    const readWith = async (p: string) => {
      let sumX = 0;
      let lastS = '';
      const n = await readAll(p, (row) => {
        sumX += row.x as number;
        lastS = String(row.s);
      });
      return { rows: n, sumX, lastS };
    };
    const wasmFile = await tryRead(async (p) => ({ rows: await readAll(p), sumX: expected.sumX, lastS: expected.lastS }), join(dir, 'parquet-wasm.parquet'));
    rows.push({ library: 'parquetjs-lite 0.8.7', write, read, mb: statSync(path).size / 1e6, zstd: await tryRead(readWith, compat.zstd),
      snappy: await tryRead(readWith, compat.snappy), note: `row objects; reads its own file (parquet-wasm's file: ${wasmFile})` });
  }
}

// ---- the table ------------------------------------------------------------------------------------
const cell = (v: number | string | undefined, digits = 2) => (v === undefined ? '—' : typeof v === 'number' ? `${v.toFixed(digits)} s` : v);
const header = ['library', `write ${ROWS.toExponential(0)}`, `read ${ROWS.toExponential(0)}`, 'file MB', 'DuckDB zstd+dict', 'DuckDB snappy+dict', 'note'];
const lines = rows.map((r) => [r.library, cell(r.write), cell(r.read), r.mb === undefined ? '—' : r.mb.toFixed(1), r.zstd ?? '—', r.snappy ?? '—', r.note ?? '']);
const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
const format = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
console.log();
console.log(format(header));
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
for (const l of lines) console.log(format(l));
console.log(`\nnode ${process.version}, ${process.platform} ${process.arch}; read = Parquet file → Arrow JS table (hyparquet, parquetjs-lite: JS values)`);
duckConnection.closeSync();
duckInstance.closeSync();
rmSync(dir, { recursive: true, force: true });
