// Malformed inputs for every file reader (source.csv, source.parquet, source.arrow): mutated copies
// of real files (truncated anywhere, in the header or the footer; bytes flipped; ranges zeroed,
// deleted or duplicated; length fields made huge) must each give correct batches or one InputError
// naming the file and the cause; never a hang, a raw TypeError/RangeError from inside a decoder, or
// a crash. Reads run in a worker thread (fuzz-worker.mjs) with a per-case time limit, so a hang
// (even a synchronous infinite loop) or a crash fails the case instead of stopping the suite.
//
// The mutations come from a PRNG with a fixed seed, printed in every assertion message:
// QUIVER_FUZZ_SEED=<n> replays another seed, QUIVER_FUZZ_CASES=<n> changes the cases per seed file,
// QUIVER_FUZZ_KEEP=<folder> keeps the files.
//
// Then explicit cases (missing and empty files, wrong-typed and non-finite CSV values, an LZ4 frame
// claiming a huge size, Parquet files with differing schemas in one glob), and runs through the
// engine where one file of a glob is damaged.
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  Dictionary, Field, Float64, Int32, List, RecordBatch, RecordBatchFileWriter, RecordBatchStreamWriter, Schema,
  Struct, Table, Utf8, makeData, tableFromArrays, vectorFromArray, type Data, type Vector,
} from 'apache-arrow';
import { Footer } from 'apache-arrow/ipc/metadata/file';
import { afterAll, describe, expect, test } from 'vitest';
import { arrowSource } from '../../connectors/arrow-ipc/source.ts';
import { arrowSink } from '../../connectors/arrow-ipc/sink.ts';
import { csvSource } from '../../connectors/csv/source.ts';
import { parquetSource } from '../../connectors/parquet/source.ts';
import { parquetSink } from '../../connectors/parquet/sink.ts';
import { encodeBatches } from '../../src/arrow/ipc.ts';
import { LocalExecutor } from '../../src/engine/executors/local.ts';
import { runWorkflow } from '../../src/engine/run-workflow.ts';
import { builtinCatalog } from '../../src/stages/index.ts';
import { workflow } from '../../src/workflow/builder.ts';
import { InputError } from '../../src/workflow/errors.ts';
import type { SinkStage, SourceStage } from '../../src/workflow/stage.ts';
import { duckdb, repoRoot, scratchDir } from '../helpers.ts';
import { FuzzWorker } from './fuzz-pool.ts';
import type { ReadOutcome } from './fuzz-read.ts';
import { concat, mutate, prng } from './mutations.ts';
import { lz4Frame, writeCompressed } from './arrow-compressed.ts';
import { readSource, writeSink } from './stage-harness.ts';

const SEED = Number(process.env.QUIVER_FUZZ_SEED ?? 20_261_127);
const CASES = Number(process.env.QUIVER_FUZZ_CASES ?? 24);
/** A read that takes longer is a hang: the seed files are a few tens of KiB. */
const CASE_LIMIT_MS = 30_000; // a hang, not a slow read on a busy machine

/** QUIVER_FUZZ_KEEP=<folder> keeps the seed files and every mutated case there, to replay one by hand. */
const keep = process.env.QUIVER_FUZZ_KEEP;
const dir = keep ? (mkdirSync(keep, { recursive: true }), keep) : scratchDir('quiver-fuzz-');
const finance = join(repoRoot, 'data', 'finance');

const pool = new FuzzWorker(CASE_LIMIT_MS);
afterAll(() => pool.close());

// ---------------------------------------------------------------------------------------------
// Seed files, made from the bundled finance CSVs

const lines = (name: string, count: number) => readFileSync(join(finance, name), 'utf8').split('\n').slice(0, count).join('\n') + '\n';

interface SeedFile {
  name: string;
  bytes: Uint8Array;
  params: Record<string, unknown>;
  rows: number;
}

async function readCsvTable(path: string, params: Record<string, unknown> = {}): Promise<Table> {
  const { partitions } = await readSource(csvSource, { path, ...params }, finance);
  return new Table(partitions.flatMap((p) => p.batches));
}

/** A batch of `table`'s rows, with one column added: a string column, some quoted CSV-unfriendly text. */
function withNotes(table: Table, rows: number): RecordBatch {
  const sliced = table.slice(0, rows);
  const notes = vectorFromArray(Array.from({ length: sliced.numRows }, (_, i) => (i % 9 === 0 ? null : `note ${i}, "q" ${'é'.repeat(i % 3)}`)), new Utf8());
  const fields = [...sliced.schema.fields, new Field('note', new Utf8(), true)];
  const children = [...sliced.schema.fields.map((_, c) => sliced.getChildAt(c)!.data[0]), notes.data[0]] as Data[];
  return new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length: sliced.numRows, nullCount: 0, children }));
}

async function sinkBytes(stage: SinkStage, params: Record<string, unknown>, batch: RecordBatch, ext: string): Promise<Uint8Array> {
  const out = join(dir, 'sink', `${ext}-${Math.random().toString(36).slice(2)}`);
  mkdirSync(out, { recursive: true });
  const [record] = await writeSink(stage, params, batch.schema, [[batch]], out, ext);
  return new Uint8Array(readFileSync(record.path));
}

/** A batch with a dictionary column, lists and nulls: the general (Arrow JS) decoding path. */
function dictionaryBatch(rows: number): RecordBatch {
  const cat = new Dictionary(new Utf8(), new Int32(), 3);
  const listType = new List(new Field('item', new Float64(), true));
  const fields = [new Field('id', new Int32(), false), new Field('cat', cat, true), new Field('l', listType, true)];
  const words = vectorFromArray(['low', 'mid', 'high'], new Utf8());
  const ids = Array.from({ length: rows }, (_, i) => i);
  const children = [
    vectorFromArray(Int32Array.from(ids)).data[0],
    makeData({ type: cat, length: rows, nullCount: 0, data: Int32Array.from(ids, (i) => i % 3), dictionary: words }),
    (vectorFromArray(ids.map((i) => (i % 5 === 0 ? null : Array.from({ length: i % 4 }, (_, k) => i + k / 4))), listType) as Vector).data[0],
  ] as Data[];
  return new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length: rows, nullCount: 0, children }));
}

async function csvSeeds(): Promise<SeedFile[]> {
  const spy = new TextEncoder().encode(lines('pandasta_SPY_D.csv', 161));
  const sp500 = new TextEncoder().encode(lines('vega_sp500-2000.csv', 121));
  const minute = new TextEncoder().encode(lines('pyalgotrade_nt-spy-minute-2011-03.csv', 120));
  const ffn = lines('ffn_test_data.csv', 81).split('\n').map((l, i) => (l && i > 0 ? `${l},"note ${i}, ""q"" é"` : l ? `${l},note` : l)).join('\n');
  return [
    { name: 'spy.csv', bytes: spy, params: {}, rows: 160 },
    // declared types, and chunks of 2 KiB: the chunker (main thread) sees the damage first
    { name: 'sp500.csv', bytes: sp500, params: { schema: { date: 'timestamp[ms, UTC]', volume: 'int64', close: 'float64' }, chunkBytes: 2048 }, rows: 120 },
    { name: 'minute.csv', bytes: minute, params: { header: false, delimiter: ';', timestampFormat: '%Y%m%d %H%M%S' }, rows: 120 },
    { name: 'ffn.csv', bytes: new TextEncoder().encode(ffn), params: { timestampFormat: '%m/%d/%Y' }, rows: 80 },
  ];
}

async function parquetSeeds(): Promise<SeedFile[]> {
  const spy = await readCsvTable('pandasta_SPY_D.csv');
  const batch = withNotes(spy, 300);
  const duck = join(dir, 'duck.parquet');
  await duckdb(`COPY (SELECT i::INTEGER AS id, i / 7 AS x, CASE WHEN i % 5 = 0 THEN NULL ELSE 'c-' || (i % 7) END AS s,
    TIMESTAMP '2024-01-01' + INTERVAL (i) MINUTE AS ts, CASE WHEN i % 11 = 0 THEN NULL ELSE [i, NULL, i + 1] END AS l
    FROM range(0, 300) t(i)) TO '${duck}' (FORMAT PARQUET, COMPRESSION ZSTD, ROW_GROUP_SIZE 100)`);
  return [
    { name: 'snappy.parquet', bytes: await sinkBytes(parquetSink, { path: 'x.parquet', rowGroupRows: 64 }, batch, 'parquet'), params: { batchRows: 50 }, rows: 300 },
    {
      name: 'plain.parquet', rows: 300, params: { columns: ['note', 'close', 'date'] },
      bytes: await sinkBytes(parquetSink, { path: 'x.parquet', compression: 'none', dictionary: 'always', rowGroupRows: 100 }, batch, 'parquet'),
    },
    { name: 'duckdb.parquet', bytes: new Uint8Array(readFileSync(duck)), params: {}, rows: 300 },
  ];
}

async function arrowSeeds(): Promise<SeedFile[]> {
  const spy = await readCsvTable('pandasta_SPY_D.csv');
  const batch = withNotes(spy, 200);
  const pieces = [0, 50, 100, 150].map((start) => batch.slice(start, start + 50));
  const dictionaries = [dictionaryBatch(60), dictionaryBatch(60)];
  const lz4 = writeCompressed(pieces, lz4Frame);
  const sinkPieces = async (format: string) => {
    const out = join(dir, 'sink', `arrow-${format}`);
    mkdirSync(out, { recursive: true });
    const [record] = await writeSink(arrowSink, { path: 'x.arrow', format }, batch.schema, [pieces], out, 'arrow');
    return new Uint8Array(readFileSync(record.path));
  };
  return [
    { name: 'file.arrow', bytes: await sinkPieces('file'), params: { chunkBytes: 4096 }, rows: 200 },
    { name: 'stream.arrows', bytes: await sinkPieces('stream'), params: { chunkBytes: 4096 }, rows: 200 },
    { name: 'dictionary.arrows', bytes: RecordBatchStreamWriter.writeAll(dictionaries).toUint8Array(true), params: { chunkBytes: 1 }, rows: 120 },
    { name: 'lz4.feather', bytes: lz4, params: { chunkBytes: 4096 }, rows: 200 },
  ];
}

/** Files that are all header, or all magic. */
const magicOnly: Record<string, [string, Uint8Array][]> = {
  'source.csv': [
    ['bom.csv', Uint8Array.from([0xef, 0xbb, 0xbf])],
    ['newlines.csv', new TextEncoder().encode('\n\n\r\n')],
    ['quote.csv', new TextEncoder().encode('"')],
  ],
  'source.parquet': [
    ['par1.parquet', new TextEncoder().encode('PAR1')],
    ['par1par1.parquet', new TextEncoder().encode('PAR1PAR1')],
    ['par1-zero-footer.parquet', concat(new TextEncoder().encode('PAR1'), new Uint8Array(4), new TextEncoder().encode('PAR1'))],
  ],
  'source.arrow': [
    ['arrow1.arrow', new TextEncoder().encode('ARROW1')],
    ['arrow1-padded.arrow', new TextEncoder().encode('ARROW1\0\0')],
    ['arrow1-twice.arrow', new TextEncoder().encode('ARROW1\0\0ARROW1')],
    ['end-marker.arrows', Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0])],
  ],
};

// ---------------------------------------------------------------------------------------------
// The fuzz cases

/** Outcomes of the mutated cases; the causes of every error. */
interface Tally {
  ok: number;
  errors: number;
  messages: Map<string, number>;
}

async function fuzzReader(reader: string, seeds: SeedFile[]): Promise<Tally> {
  const folder = join(dir, reader);
  mkdirSync(folder, { recursive: true });
  const tally: Tally = { ok: 0, errors: 0, messages: new Map() };
  const label = (what: string) => `${reader}, QUIVER_FUZZ_SEED=${SEED}: ${what}`;

  /** Reads one file; checks the outcome is sane batches or a clear InputError naming it. */
  const check = async (file: string, params: Record<string, unknown>, what: string, expect_?: { rows: number; fields?: number }) => {
    const verdict = await pool.read({ reader, params: { ...params, path: file }, baseDir: folder });
    const where = label(`${what} → ${JSON.stringify(verdict).slice(0, 600)}`);
    if (!('ok' in verdict)) {
      expect.soft('hang' in verdict ? 'hang' : 'crash', where).toBe('an answer');
      return { ok: false, inputError: false, name: 'hang' in verdict ? 'hang' : 'crash', message: '', rss: 0, peakRss: 0 } satisfies ReadOutcome;
    }
    const outcome = verdict;
    expect.soft(outcome.rss, where).toBeLessThan(2 * 1024 ** 3); // no runaway allocation
    if (outcome.ok) {
      expect.soft(outcome.fields.length, where).toBeGreaterThan(0);
      if (expect_) {
        tally.ok++;
        // Parquet and Arrow keep their schema apart from the data: damage to it is an error (or a
        // renamed column). A CSV's header is a line like the others: cut or changed, it names other columns.
        if (expect_.fields !== undefined) expect.soft(outcome.fields.length, where).toBe(expect_.fields);
        // Damage may drop rows or (duplicated ranges) repeat some; it cannot invent many more.
        expect.soft(outcome.rows, where).toBeLessThanOrEqual(2 * expect_.rows + 2);
      }
      return outcome;
    }
    if (expect_) tally.errors++;
    expect.soft(outcome.inputError, where).toBe(true);
    expect.soft(outcome.message, where).toContain(file);
    expect.soft(outcome.message, where).not.toMatch(/\n/); // one sentence
    const cause = outcome.message.replace(/^.*?: /, '').replace(/\d+/g, 'N').slice(0, 70);
    tally.messages.set(cause, (tally.messages.get(cause) ?? 0) + 1);
    return outcome;
  };

  const rng = prng(SEED ^ reader.length * 0x9e3779b9);
  const originals: { seed: SeedFile; fields: number }[] = [];
  for (const seed of seeds) {
    writeFileSync(join(folder, seed.name), seed.bytes);
    const outcome = await check(seed.name, seed.params, `the unmutated seed ${seed.name}`);
    expect(outcome.ok ? outcome.rows : outcome.message, label(seed.name)).toBe(seed.rows);
    originals.push({ seed, fields: outcome.ok ? outcome.fields.length : 0 });
  }

  for (const { seed, fields } of originals) {
    const ext = seed.name.slice(seed.name.lastIndexOf('.'));
    for (let i = 0; i < CASES; i++) {
      const { what, bytes } = mutate(seed.bytes, rng);
      const name = `${seed.name.slice(0, -ext.length)}-${i}${ext}`;
      writeFileSync(join(folder, name), bytes);
      await check(name, seed.params, `case ${i} of ${seed.name}: ${what}`, { rows: seed.rows, fields: reader === 'source.csv' ? undefined : fields });
    }
    writeFileSync(join(folder, `empty${ext}`), '');
    const empty = await check(`empty${ext}`, seed.params, 'an empty file');
    expect(empty.ok, label(`empty${ext}`)).toBe(false);
  }
  for (const [name, bytes] of magicOnly[reader]) {
    writeFileSync(join(folder, name), bytes);
    const outcome = await check(name, originals[0].seed.params, `${name}: only the magic bytes`);
    expect(outcome.ok, label(name)).toBe(false);
  }
  // Still fine afterwards: every seed reads as it did (a panic in parquet-wasm poisons nothing).
  for (const { seed } of originals) {
    const outcome = await check(seed.name, seed.params, `${seed.name} again, after the fuzz cases`);
    expect(outcome.ok && outcome.rows, label(`${seed.name} again`)).toBe(seed.rows);
  }
  return tally;
}

describe('fuzzed inputs: every reader gives sane batches or one InputError naming the file', () => {
  const report = (reader: string, tally: Tally) => {
    const top = [...tally.messages.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([m, n]) => `${n}× ${m}`);
    console.log(`${reader} (QUIVER_FUZZ_SEED=${SEED}, ${CASES} cases per seed): ${tally.ok} read, ${tally.errors} InputErrors\n  ${top.join('\n  ')}`);
    // Not vacuous: some damage goes unnoticed (a flipped digit is another number), most is caught.
    expect(tally.ok, reader).toBeGreaterThan(0);
    expect(tally.errors, reader).toBeGreaterThan(0);
  };

  test('source.csv', async () => report('source.csv', await fuzzReader('source.csv', await csvSeeds())));
  test('source.parquet', async () => report('source.parquet', await fuzzReader('source.parquet', await parquetSeeds())));
  test('source.arrow', async () => report('source.arrow', await fuzzReader('source.arrow', await arrowSeeds())));
});

// ---------------------------------------------------------------------------------------------
// Explicit cases

const explicit = join(dir, 'explicit');
mkdirSync(explicit, { recursive: true });
const put = (name: string, bytes: string | Uint8Array) => writeFileSync(join(explicit, name), bytes);
const errorOf = (stage: SourceStage, params: Record<string, unknown>) =>
  readSource(stage, params, explicit).then(() => undefined, (e: unknown) => e as Error);
const valuesOf = async (params: Record<string, unknown>, column: string) => {
  const { partitions } = await readSource(csvSource, params, explicit);
  return partitions.flatMap((p) => p.batches.flatMap((b) => [...b.getChild(column)!].map((v) => (typeof v === 'bigint' ? Number(v) : v))));
};

describe('malformed inputs, case by case', () => {
  test('a missing file, or a glob that matches nothing: a clear "no file matches" error', async () => {
    for (const [stage, name] of [[csvSource, 'gone.csv'], [parquetSource, 'gone.parquet'], [arrowSource, 'gone.arrow'], [arrowSource, 'gone-*.arrows']] as const) {
      const error = await errorOf(stage, { path: name });
      expect(error, name).toBeInstanceOf(Error);
      expect(error!.message, name).toBe(`no file matches '${name}' in ${explicit}`);
    }
  });

  test('an empty file, in each format: an InputError naming it and saying it is empty', async () => {
    for (const [stage, name, cause] of [
      [csvSource, 'empty.csv', 'empty file: no header line'],
      [parquetSource, 'empty.parquet', 'not a Parquet file (empty)'],
      [arrowSource, 'empty.arrow', 'empty file (not an Arrow IPC file or stream)'],
      [arrowSource, 'empty.arrows', 'empty file (not an Arrow IPC file or stream)'],
    ] as const) {
      put(name, '');
      const error = await errorOf(stage, { path: name });
      expect(error, name).toBeInstanceOf(InputError);
      expect(error!.message, name).toMatch(new RegExp(`^(.*/)?${name.replace('.', '\\.')}(:1)?: ${cause.replace(/[()]/g, '\\$&')}$`));
    }
    put('no-header.csv', '');
    expect((await errorOf(csvSource, { path: 'no-header.csv', header: false }))?.message).toMatch(/no-header\.csv:1: empty file: no line to count the columns of/);
    // A header and no rows is not malformed: no rows, the header's columns.
    put('header-only.csv', 'a,b\n');
    const { schema, partitions } = await readSource(csvSource, { path: 'header-only.csv', schema: { a: 'float64' } }, explicit);
    expect(schema.fields.map((f) => `${f.name}: ${f.type}`)).toEqual(['a: Float64', 'b: Utf8']);
    expect(partitions[0].batches.reduce((n, b) => n + b.numRows, 0)).toBe(0);
  });

  test('a CSV value that is not the declared float64: the file, line, column, value and type', async () => {
    const rows = ['x,y', ...Array.from({ length: 10 }, (_, i) => `${i},${i * 1.5}`)];
    put('typed-a.csv', rows.join('\n') + '\n');
    rows[6] = '5,abc'; // line 7
    put('typed-b.csv', rows.join('\n') + '\n');
    // In the file discover samples: found before any data is read (quiver validate reports it).
    let error = await errorOf(csvSource, { path: 'typed-b.csv', schema: { y: 'float64' } });
    expect(error).toBeInstanceOf(InputError);
    expect(error!.message).toBe(`${join(explicit, 'typed-b.csv')}:7: column 'y': cannot read 'abc' as float64 (declared in schema)`);
    // In a later file of a glob: found by the read of that file.
    error = await errorOf(csvSource, { path: 'typed-?.csv', schema: { y: 'float64' } });
    expect(error).toBeInstanceOf(InputError);
    expect(error!.message).toBe(`${join(explicit, 'typed-b.csv')}:7: column 'y': cannot read 'abc' as float64 (declared in schema)`);
    // Inferred from the first file, then contradicted by the second: the hint says how to declare it.
    error = await errorOf(csvSource, { path: 'typed-?.csv' });
    expect(error!.message).toMatch(/typed-b\.csv:7: column 'y': cannot read 'abc' as float64 \(the type inferred from a sample of the first file; declare the column in schema/);
    // Other wrong types: an integer column, a bool column, a timestamp column.
    put('typed-c.csv', 'i,b,t\n1,true,2020-01-01\n2.5,false,2020-01-02\n');
    error = await errorOf(csvSource, { path: 'typed-c.csv', schema: { i: 'int32' } });
    expect(error!.message).toMatch(/typed-c\.csv:3: column 'i': cannot read '2\.5' as int32 \(declared in schema\)$/);
    put('typed-d.csv', 'i,b,t\n1,true,2020-01-01\n2,maybe,2020-01-02\n');
    error = await errorOf(csvSource, { path: 'typed-d.csv', schema: { b: 'bool' } });
    expect(error!.message).toMatch(/typed-d\.csv:3: column 'b': cannot read 'maybe' as bool \(declared in schema\)$/);
    put('typed-e.csv', 'i,b,t\n1,true,2020-01-01\n2,false,2020-13-45\n');
    error = await errorOf(csvSource, { path: 'typed-e.csv', schema: { t: 'timestamp[ms, UTC]' } });
    expect(error!.message).toMatch(/typed-e\.csv:3: column 't': cannot read '2020-13-45' as timestamp\[ms, UTC\] \(declared in schema\)$/);
  });

  test('NaN and infinities in a CSV float column are IEEE values; in an integer column they are errors', async () => {
    // Documented in connectors/csv/README.md ("Non-finite numbers").
    put('special.csv', 'k,v\n1,1.5\n2,NaN\n3,inf\n4,-Infinity\n5,+INF\n6,nan\n7,-nan\n8,\n');
    const expected = [1.5, NaN, Infinity, -Infinity, Infinity, NaN, NaN, null];
    expect(await valuesOf({ path: 'special.csv' }, 'v')).toEqual(expected); // inferred: float64
    expect(await valuesOf({ path: 'special.csv', schema: { v: 'float64' } }, 'v')).toEqual(expected);
    expect(await valuesOf({ path: 'special.csv', schema: { v: 'float32' } }, 'v')).toEqual(expected);
    // Values, not nulls, unless nullValues says so.
    expect(await valuesOf({ path: 'special.csv', nullValues: ['', 'NaN', 'nan'] }, 'v')).toEqual([1.5, null, Infinity, -Infinity, Infinity, null, NaN, null]);
    // Look-alikes are not numbers.
    for (const text of ['nanx', 'infinit', 'Inf1', 'NaN.0', '1e', '--1', '1.2.3', '0x10']) {
      put('not-special.csv', `k,v\n1,1.5\n2,${text}\n`);
      const error = await errorOf(csvSource, { path: 'not-special.csv', schema: { v: 'float64' } });
      expect(error?.message, text).toBe(`${join(explicit, 'not-special.csv')}:3: column 'v': cannot read '${text}' as float64 (declared in schema)`);
    }
    // Integers have no NaN or infinity.
    put('int-special.csv', 'k,v\n1,1\n2,NaN\n');
    const error = await errorOf(csvSource, { path: 'int-special.csv', schema: { v: 'int64' } });
    expect(error?.message).toBe(`${join(explicit, 'int-special.csv')}:3: column 'v': cannot read 'NaN' as int64 (declared in schema)`);
  });

  test('an LZ4 frame header claiming a huge content size: an error, not a huge allocation', async () => {
    const rows = withNotes(await readCsvTable('pandasta_SPY_D.csv'), 100);
    const write = (contentSize: bigint) => writeCompressed([rows], (bytes) => lz4Frame(bytes, contentSize));
    put('lz4-sized.arrow', write(100n)); // a plausible size hint is only a hint
    const { partitions } = await readSource(arrowSource, { path: 'lz4-sized.arrow' }, explicit);
    expect(partitions[0].batches.reduce((n, b) => n + b.numRows, 0)).toBe(100);
    put('lz4-huge.arrow', write(1n << 40n));
    const error = await errorOf(arrowSource, { path: 'lz4-huge.arrow' });
    expect(error).toBeInstanceOf(InputError);
    expect(error!.message).toMatch(/^lz4-huge\.arrow: corrupt record batch in bytes \d+-\d+: LZ4 frame header claims 1099511627776 bytes of content, more than its \d+ bytes can hold$/);
  });

  test('an Arrow record batch header whose buffer is too short for its column: an error, not the next buffer read as values', async () => {
    const batch = tableFromArrays({ x: Float64Array.from({ length: 100 }, (_, i) => i), y: Float64Array.from({ length: 100 }, (_, i) => -i) }).batches[0];
    const bytes = encodeBatches(batch.schema, [batch]).slice();
    const view = new DataView(bytes.buffer);
    // quiver's own message layout (src/arrow/ipc-batch.ts): the record batch follows the schema message.
    const message = 8 + view.getInt32(4, true) + 8;
    const nodes = view.getUint32(message + 76, true);
    const buffers = message + 76 + 4 + 16 * nodes + 4;
    expect(view.getUint32(buffers, true)).toBe(4); // validity and values of x, then of y
    expect(view.getUint32(buffers + 4 + 16 + 8, true)).toBe(800); // x's values
    put('short-buffer.arrows', bytes);
    expect((await readSource(arrowSource, { path: 'short-buffer.arrows' }, explicit)).partitions[0].batches[0].getChild('x')!.get(99)).toBe(99);
    view.setUint32(buffers + 4 + 16 + 8, 8, true); // x's values now said to be 8 bytes long
    put('short-buffer.arrows', bytes);
    const error = await errorOf(arrowSource, { path: 'short-buffer.arrows' });
    expect(error).toBeInstanceOf(InputError);
    expect(error!.message).toBe("short-buffer.arrows: corrupt record batch header: buffer 1 has 8 bytes, column 'x' needs 800");
  });

  test('parquet-wasm panicking on one footer of several: the error names that file, and reading goes on', async (ctx) => {
    const good = await sinkBytes(parquetSink, { path: 'x.parquet' }, withNotes(await readCsvTable('pandasta_SPY_D.csv'), 50), 'parquet');
    // The Arrow schema parquet-wasm's writer keeps in the footer (base64 IPC): a damaged one makes
    // arrow-rs panic. Which byte does it depends on the library's version: look for one.
    const key = Buffer.from(good).indexOf('ARROW:schema');
    expect(key).toBeGreaterThan(0);
    let bad: Uint8Array | undefined;
    for (let at = key + 20; at < good.byteLength - 8 && !bad; at++) {
      const candidate = good.slice();
      candidate[at] = candidate[at] === 0x58 ? 0x59 : 0x58; // another base64 letter
      put('panic-2.parquet', candidate);
      const error = await errorOf(parquetSource, { path: 'panic-2.parquet' });
      if (error?.message.includes('panic')) bad = candidate;
    }
    if (!bad) return ctx.skip('no byte of the footer makes this parquet-wasm panic');
    for (const k of [0, 1, 3, 4]) put(`panic-${k}.parquet`, good);
    // Footers are read several at once; a panic fails them all, but only the one at fault is named.
    // (Whether arrow-rs panics on these bytes or reports them unaligned depends on where its
    // allocator put them: either way, the file is named.)
    for (let round = 0; round < 3; round++) {
      const error = await errorOf(parquetSource, { path: 'panic-*.parquet' });
      expect(error).toBeInstanceOf(InputError);
      expect(error!.message).toMatch(/^panic-2\.parquet: cannot read the Parquet footer: /);
    }
    const { partitions } = await readSource(parquetSource, { path: 'panic-[0134].parquet' }, explicit);
    expect(partitions.map((p) => p.batches.reduce((n, b) => n + b.numRows, 0))).toEqual([50, 50, 50, 50]);
  });

  test('Parquet files whose schemas differ in one glob: an InputError naming both files', async () => {
    const make = (x: Float64Array | string[]) => tableFromArrays({ id: Int32Array.from([1, 2, 3]), x }).batches[0];
    const write = async (name: string, batch: RecordBatch) => put(name, await sinkBytes(parquetSink, { path: 'x.parquet' }, batch, 'parquet'));
    await write('mixed-1.parquet', make(Float64Array.from([1, 2, 3])));
    await write('mixed-2.parquet', make(['a', 'b', 'c']));
    let error = await errorOf(parquetSource, { path: 'mixed-*.parquet' });
    expect(error).toBeInstanceOf(InputError);
    expect(error!.message).toBe("mixed-2.parquet: column 'x' is dictionary<utf8>, but float64 in mixed-1.parquet");
    await write('other-1.parquet', make(Float64Array.from([1, 2, 3])));
    await write('other-2.parquet', tableFromArrays({ id: Int32Array.from([1]), y: Float64Array.from([1]) }).batches[0]);
    error = await errorOf(parquetSource, { path: 'other-*.parquet' });
    expect(error).toBeInstanceOf(InputError);
    expect(error!.message).toBe("other-2.parquet: has no column 'x', which other-1.parquet has (columns: id, y)");
  });
});

// ---------------------------------------------------------------------------------------------
// Through the engine

describe('a damaged file in a run', () => {
  const executor = new LocalExecutor({ workers: 2 });
  afterAll(() => executor.close());
  const inputs = join(dir, 'run-inputs');
  mkdirSync(inputs, { recursive: true });
  const spy = readFileSync(join(finance, 'pandasta_SPY_D.csv'), 'utf8').split('\n');
  const header = spy[0];
  const part = (k: number) => [header, ...spy.slice(1 + k * 400, 1 + (k + 1) * 400)].join('\n') + '\n';
  const outFiles = (out: string) => readdirSync(out).filter((f) => f !== '.quiver');

  const spyWorkflow = (name: string, path: string, use = 'source.csv') => workflow(name, { baseDir: inputs })
    .stage('prices', use, { path })
    .stage('range', 'table.derive', { columns: { range: 'high - low' } }, { from: 'prices' })
    .stage('out', 'sink.parquet', { path: 'prices.parquet' }, { from: 'range' });

  test('one truncated CSV of several: the run fails naming stage and file, leaves no output, and the next run works', async () => {
    for (let k = 0; k < 4; k++) put2(`spy-${k}.csv`, part(k));
    const cut = part(2);
    put2('spy-2.csv', cut.slice(0, cut.lastIndexOf('\n', cut.length - 2) + 20)); // the last record cut after 19 bytes
    const out = join(dir, 'run-bad');
    const summary = await runWorkflow(spyWorkflow('damaged', 'spy-*.csv'), { catalog: builtinCatalog, out, executor });
    expect(summary.status).toBe('failed');
    // The stage and the file, line and cause (the engine may wrap it: retries, fused stages).
    expect(summary.error).toContain("stage 'prices'");
    expect(summary.error).toMatch(/spy-2\.csv:401: expected 7 fields, found 3\b/);
    expect(outFiles(out)).toEqual([]);
    expect(existsSync(join(out, '.quiver'))).toBe(true);
    const manifest = JSON.parse(readFileSync(summary.manifest, 'utf8'));
    expect(manifest.status).toBe('failed');

    // The same process, the same worker pool: a good run works.
    put2('spy-2.csv', part(2));
    const good = join(dir, 'run-good');
    const ok = await runWorkflow(spyWorkflow('repaired', 'spy-*.csv'), { catalog: builtinCatalog, out: good, executor });
    expect(ok.error).toBeUndefined();
    expect(ok.status).toBe('ok');
    expect(outFiles(good)).toEqual(['prices.parquet']);
    expect(ok.stages.find((s) => s.id === 'prices')!.rowsOut).toBe(1600);
  });

  test('one damaged Arrow file of several: found by the worker that reads it, the run fails naming stage and file', async () => {
    const batch = withNotes(await readCsvTable('pandasta_SPY_D.csv'), 900);
    for (let k = 0; k < 3; k++) {
      const bytes = RecordBatchFileWriter.writeAll([0, 100, 200].map((at) => batch.slice(k * 300 + at, k * 300 + at + 100))).toUint8Array(true);
      if (k === 1) {
        // The second record batch's header overwritten: the footer (all discover reads) is intact.
        const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        const footerLength = view.getInt32(bytes.byteLength - 10, true);
        const footer = Footer.decode(bytes.subarray(bytes.byteLength - 10 - footerLength, bytes.byteLength - 10));
        const block = [...footer.recordBatches()][1];
        bytes.fill(0x55, block.offset + 8, block.offset + 40);
      }
      put2(`spy-${k}.arrow`, bytes);
    }
    const out = join(dir, 'run-arrow');
    const summary = await runWorkflow(spyWorkflow('damaged-arrow', 'spy-*.arrow', 'source.arrow'), { catalog: builtinCatalog, out, executor });
    expect(summary.status).toBe('failed');
    expect(summary.error).toContain("stage 'prices'");
    expect(summary.error).toMatch(/spy-1\.arrow: corrupt /);
    expect(outFiles(out)).toEqual([]);
  });

  test('one truncated Arrow stream of several: found while listing its batches, the run fails naming the file', async () => {
    const table = await readCsvTable('pandasta_SPY_D.csv');
    for (let k = 0; k < 3; k++) {
      const bytes = RecordBatchStreamWriter.writeAll(table.slice(k * 300, (k + 1) * 300)).toUint8Array(true);
      put2(`spy-${k}.arrows`, k === 1 ? bytes.subarray(0, bytes.byteLength - 100) : bytes);
    }
    const out = join(dir, 'run-stream');
    const summary = await runWorkflow(spyWorkflow('damaged-stream', 'spy-*.arrows', 'source.arrow'), { catalog: builtinCatalog, out, executor });
    expect(summary.status).toBe('failed');
    expect(summary.error).toMatch(/^stage 'prices': spy-1\.arrows: truncated: the message at byte \d+ ends at byte \d+ but the file has \d+/);
    expect(outFiles(out)).toEqual([]);
  });

  test('one truncated Parquet file of several: the run fails naming stage and file, writes its record and no output', async () => {
    const table = await readCsvTable('pandasta_SPY_D.csv');
    const files: Uint8Array[] = [];
    for (let k = 0; k < 3; k++) {
      files.push(await sinkBytes(parquetSink, { path: 'x.parquet' }, table.slice(k * 300, (k + 1) * 300).batches[0], 'parquet'));
      put2(`spy-${k}.parquet`, k === 2 ? files[k].subarray(0, files[k].byteLength - 3) : files[k]);
    }
    const out = join(dir, 'run-parquet');
    const failed = await runWorkflow(spyWorkflow('damaged-parquet', 'spy-*.parquet', 'source.parquet'), { catalog: builtinCatalog, out, executor });
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/stage 'prices.*': spy-2\.parquet: truncated: it starts with PAR1 but does not end with it/);
    expect(existsSync(failed.manifest)).toBe(true);
    expect(outFiles(out)).toEqual([]);
    // Whole again, the files read in the worker threads.
    put2('spy-2.parquet', files[2]);
    const ok = await runWorkflow(spyWorkflow('repaired-parquet', 'spy-*.parquet', 'source.parquet'), { catalog: builtinCatalog, out, executor });
    expect(ok.error).toBeUndefined();
    expect(ok.stages.find((s) => s.id === 'prices')!.rowsOut).toBe(900);
    expect(outFiles(out)).toEqual(['prices.parquet']);
  });

  function put2(name: string, bytes: string | Uint8Array) {
    writeFileSync(join(inputs, name), bytes);
  }
});
