// source.parquet reads what DuckDB writes (every codec, dictionary pages, nulls, timestamps,
// dates, lists, several row groups) and gives the values DuckDB reads from the same file;
// sink.parquet writes files DuckDB reads back with the same rows, and writes them as it goes.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Field, Float64, Int32, RecordBatch, Schema, Struct, Type, makeData, tableFromArrays, type Vector } from 'apache-arrow';
import { describe, expect, test } from 'vitest';
import { parquetSource } from '../../../connectors/parquet/source.ts';
import { parquetSink } from '../../../connectors/parquet/sink.ts';
import { InputError } from '../../../src/workflow/errors.ts';
import type { SinkStage, SourceStage } from '../../../src/workflow/stage.ts';
import { duckdb, scratchDir } from '../../helpers.ts';
import * as harness from '../stage-harness.ts';

const dir = scratchDir('quiver-parquet-');

const readSource = (stage: SourceStage, params: unknown, baseDir = dir) => harness.readSource(stage, params, baseDir);
const writeSink = (stage: SinkStage, params: unknown, schema: Schema, partitions: RecordBatch[][], outDir: string) =>
  harness.writeSink(stage, params, schema, partitions, outDir, 'parquet');

const columns = `
  i::INTEGER AS id,
  i::BIGINT * 1000000007 AS big,
  i / 7 AS x,
  (i / 3)::FLOAT AS f,
  'category-' || (i % 7) AS s,
  CASE WHEN i % 5 = 0 THEN NULL ELSE md5(i::VARCHAR) END AS u,
  CASE WHEN i % 3 = 0 THEN NULL ELSE i END AS n,
  i % 2 = 0 AS b,
  TIMESTAMP '2024-01-01' + INTERVAL (i * 1000003) MICROSECOND AS ts,
  CASE WHEN i % 13 = 0 THEN NULL ELSE TIMESTAMPTZ '2024-03-31 00:59:59+00' + INTERVAL (i) SECOND END AS tstz,
  DATE '1969-12-01' + (i % 1000)::INTEGER AS d,
  CASE WHEN i % 11 = 0 THEN NULL WHEN i % 7 = 0 THEN [] ELSE [i, NULL, i + 1] END AS l,
  ['a' || (i % 3), 'b'] AS ls`;

/** The same values, as DuckDB gives them: one expression per column, in column order. */
const duckColumns = `id, big, x, f, s, u, n, b, epoch_us(ts), epoch_us(tstz), datediff('day', DATE '1970-01-01', d), to_json(l)::VARCHAR, to_json(ls)::VARCHAR`;

/** A row of quiver's batch, normalised like duckColumns. */
function rowOf(batch: RecordBatch, i: number): unknown[] {
  return batch.schema.fields.map((field, j) => {
    const column = batch.getChildAt(j)!;
    if (!column.isValid(i)) return null;
    switch (field.type.typeId) {
      case Type.Timestamp:
      case Type.Date:
        return BigInt(column.data[0].values[i]); // raw microseconds / days, no conversion through ms
      case Type.List:
        return JSON.stringify([...(column.get(i) as Vector)].map((v) => (typeof v === 'bigint' ? Number(v) : v)));
      default:
        return column.get(i);
    }
  });
}

const rowsOf = (batches: RecordBatch[]) => batches.flatMap((b) => Array.from({ length: b.numRows }, (_, i) => rowOf(b, i)));
const duckRows = (file: string) => duckdb(`SELECT ${duckColumns} FROM read_parquet('${file}') ORDER BY id`);

async function duckFile(name: string, rows: number, options: string, from = 0) {
  const path = join(dir, name);
  await duckdb(`COPY (SELECT ${columns} FROM range(${from}, ${from + rows}) t(i)) TO '${path}' (FORMAT PARQUET, ${options})`);
  return path;
}

describe('source.parquet reads DuckDB files with the values DuckDB reads', () => {
  for (const codec of ['ZSTD', 'SNAPPY', 'GZIP', 'UNCOMPRESSED']) {
    test(`${codec}, several row groups`, async () => {
      const path = await duckFile(`duck-${codec}.parquet`, 10_000, `COMPRESSION ${codec}, ROW_GROUP_SIZE 4096`);
      const groups = await duckdb(`SELECT count(DISTINCT row_group_id) FROM parquet_metadata('${path}')`);
      expect(groups[0][0]).toBe(3n);
      const { schema, partitions } = await readSource(parquetSource, { path: `duck-${codec}.parquet`, batchRows: 1000 });
      expect(schema.fields.map((f) => `${f.name}: ${f.type}`)).toEqual([
        'id: Int32', 'big: Int64', 'x: Float64', 'f: Float32', 's: Utf8', 'u: Utf8', 'n: Int64', 'b: Bool',
        'ts: Timestamp<MICROSECOND>', 'tstz: Timestamp<MICROSECOND, UTC>', 'd: Date32<DAY>', 'l: List<Int64>', 'ls: List<Utf8>',
      ]);
      expect(partitions).toHaveLength(1);
      expect(partitions[0].chunks).toBe(3); // one chunk per row group
      expect(Math.max(...partitions[0].batches.map((b) => b.numRows))).toBeLessThanOrEqual(1000);
      const ours = rowsOf(partitions[0].batches);
      expect(ours.map((r) => r[0])).toEqual(Array.from({ length: 10_000 }, (_, i) => i)); // file order
      expect(ours).toEqual(await duckRows(path));
    });
  }

  test('dictionary-heavy strings (dictionary pages) and many nulls', async () => {
    const path = join(dir, 'dict.parquet');
    await duckdb(`COPY (SELECT i::INTEGER AS id, ['alpha', 'beta', 'gamma', NULL][1 + i % 4] AS s, CASE WHEN i % 2 = 0 THEN NULL ELSE 'x' || (i % 50) END AS t
      FROM range(50000) t(i)) TO '${path}' (FORMAT PARQUET, COMPRESSION ZSTD, ROW_GROUP_SIZE 20000)`);
    const encodings = await duckdb(`SELECT DISTINCT encodings FROM parquet_metadata('${path}') WHERE path_in_schema = 's'`);
    expect(String(encodings[0][0])).toMatch(/DICTIONARY/);
    const { partitions } = await readSource(parquetSource, { path: 'dict.parquet' });
    const ours = rowsOf(partitions[0].batches);
    expect(ours).toEqual(await duckdb(`SELECT id, s, t FROM '${path}' ORDER BY id`));
  });

  test('columns: a projection, in the order given, in the schema too', async () => {
    await duckFile('proj.parquet', 5000, 'COMPRESSION ZSTD, ROW_GROUP_SIZE 2048');
    const { schema, partitions } = await readSource(parquetSource, { path: 'proj.parquet', columns: ['l', 'id', 'tstz'] });
    expect(schema.fields.map((f) => f.name)).toEqual(['l', 'id', 'tstz']);
    const ours = rowsOf(partitions[0].batches);
    expect(ours).toEqual(await duckdb(`SELECT to_json(l)::VARCHAR, id, epoch_us(tstz) FROM '${join(dir, 'proj.parquet')}' ORDER BY id`));
    await expect(readSource(parquetSource, { path: 'proj.parquet', columns: ['id', 'nope'] })).rejects.toThrow(/proj\.parquet: has no column 'nope' \(columns: id, big/);
  });

  test('several files: a glob, one partition per file in path order; schemas must agree', async () => {
    for (let k = 0; k < 3; k++) await duckFile(`multi-part-${k}.parquet`, 1000, 'COMPRESSION SNAPPY', k * 1000);
    const { partitions } = await readSource(parquetSource, { path: 'multi-part-*.parquet' });
    expect(partitions.map((p) => p.key)).toEqual(['multi-part-0.parquet', 'multi-part-1.parquet', 'multi-part-2.parquet']);
    expect(partitions.map((p) => (p.batches[0].getChild('id')!.get(0) as number))).toEqual([0, 1000, 2000]);

    await duckdb(`COPY (SELECT i::BIGINT AS id FROM range(10) t(i)) TO '${join(dir, 'odd-a.parquet')}' (FORMAT PARQUET)`);
    await duckdb(`COPY (SELECT i::DOUBLE AS id FROM range(10) t(i)) TO '${join(dir, 'odd-b.parquet')}' (FORMAT PARQUET)`);
    await duckdb(`COPY (SELECT i::BIGINT AS ident FROM range(10) t(i)) TO '${join(dir, 'odd-c.parquet')}' (FORMAT PARQUET)`);
    const err = await readSource(parquetSource, { path: 'odd-*.parquet' }).catch((e) => e);
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toBe("odd-b.parquet: column 'id' is float64, but int64 in odd-a.parquet");
    await expect(readSource(parquetSource, { path: 'odd-[ac].parquet' })).rejects.toThrow(/odd-c\.parquet: has no column 'id'/);
    await expect(readSource(parquetSource, { path: 'nothing-*.parquet' })).rejects.toThrow(`no file matches 'nothing-*.parquet' in ${dir}`);
  });

  test('corrupt and truncated files give InputErrors naming the file', async () => {
    const good = readFileSync(await duckFile('good.parquet', 3000, 'COMPRESSION ZSTD'));
    writeFileSync(join(dir, 'garbage.parquet'), 'id,x\n1,2\n3,4\n');
    writeFileSync(join(dir, 'cut.parquet'), good.subarray(0, good.byteLength - 100));
    const lying = Buffer.from(good);
    lying.writeUInt32LE(good.byteLength + 1000, good.byteLength - 8);
    writeFileSync(join(dir, 'lying.parquet'), lying);
    writeFileSync(join(dir, 'empty.parquet'), '');
    const footerLength = good.readUInt32LE(good.byteLength - 8);
    const scrambled = Buffer.from(good);
    scrambled.fill(0x7f, good.byteLength - 8 - footerLength, good.byteLength - 8);
    writeFileSync(join(dir, 'scrambled.parquet'), scrambled);
    const cases: [string, RegExp][] = [
      ['garbage.parquet', /^garbage\.parquet: not a Parquet file \(bad magic/],
      ['cut.parquet', /^cut\.parquet: truncated: it starts with PAR1 but does not end with it/],
      ['lying.parquet', new RegExp(`^lying\\.parquet: truncated: footer says ${good.byteLength + 1000} bytes but the file has ${good.byteLength}`)],
      ['empty.parquet', /^empty\.parquet: not a Parquet file \(empty\)/],
      ['scrambled.parquet', /^scrambled\.parquet: cannot read the Parquet footer: /],
    ];
    for (const [name, message] of cases) {
      const err = await readSource(parquetSource, { path: name }).catch((e) => e);
      expect(err, name).toBeInstanceOf(InputError);
      expect(err.file).toBe(name);
      expect(err.message).toMatch(message);
    }
  });
});

describe('sink.parquet', () => {
  test('DuckDB reads back the same rows and values (counts, sums, timestamps, nulls, strings, lists)', async () => {
    const source = await duckFile('roundtrip-in.parquet', 20_000, 'COMPRESSION ZSTD, ROW_GROUP_SIZE 8192');
    const { schema, partitions } = await readSource(parquetSource, { path: 'roundtrip-in.parquet', batchRows: 3000 });
    const out = join(dir, 'out-roundtrip');
    const records = await writeSink(parquetSink, { path: 'rt.parquet', compression: 'zstd', rowGroupRows: 5000 }, schema, [partitions[0].batches], out);
    expect(records).toHaveLength(1);
    const written = join(out, 'rt.parquet');
    expect(records[0].bytes).toBe(statSync(written).size);
    const [types, original] = await Promise.all([
      duckdb(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM '${written}')`),
      duckdb(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM '${source}')`),
    ]);
    expect(types).toEqual(original);
    expect(types.find((t) => t[0] === 'tstz')![1]).toBe('TIMESTAMP WITH TIME ZONE');
    expect(types.find((t) => t[0] === 'ts')![1]).toBe('TIMESTAMP');
    const summary = (f: string) => duckdb(`SELECT count(*), sum(id), sum(big), round(sum(x), 3), count(n), sum(n), count(u), min(ts), max(ts), max(tstz),
      count(tstz), min(d), max(d), sum(len(l)), count(l), count(DISTINCT s), string_agg(DISTINCT s, ',' ORDER BY s) FROM '${f}'`);
    const [ours, theirs] = await Promise.all([summary(written), summary(source)]);
    expect(ours).toEqual(theirs);
    expect(ours[0][0]).toBe(20_000n);
    const diff = await duckdb(`SELECT count(*) FROM ((SELECT * FROM '${written}' EXCEPT ALL SELECT * FROM '${source}')
      UNION ALL (SELECT * FROM '${source}' EXCEPT ALL SELECT * FROM '${written}'))`);
    expect(diff[0][0]).toBe(0n);
    expect(await duckRows(written)).toEqual(await duckRows(source));
    const groups = await duckdb(`SELECT row_group_id, any_value(row_group_num_rows), any_value(compression) FROM parquet_metadata('${written}') GROUP BY 1 ORDER BY 1`);
    expect(groups.map((g) => g[1])).toEqual([5000n, 5000n, 5000n, 5000n]);
    expect(groups[0][2]).toBe('ZSTD');
    // and quiver reads its own file back identically
    const again = await readSource(parquetSource, { path: 'out-roundtrip/rt.parquet' });
    expect(rowsOf(again.partitions[0].batches)).toEqual(rowsOf(partitions[0].batches));
  });

  test('every compression opens in DuckDB', async () => {
    const table = tableFromArrays({ id: Int32Array.from({ length: 10_000 }, (_, i) => i), x: Float64Array.from({ length: 10_000 }, (_, i) => i / 4) });
    for (const compression of ['snappy', 'zstd', 'gzip', 'brotli', 'lz4', 'none']) {
      const out = join(dir, `out-codec-${compression}`);
      await writeSink(parquetSink, { path: 'c.parquet', compression }, table.schema, [table.batches], out);
      const file = join(out, 'c.parquet');
      expect(await duckdb(`SELECT count(*), sum(id), sum(x) FROM '${file}'`), compression).toEqual([[10_000n, 49_995_000n, 12_498_750]]); // exact: quarters
      const codec = await duckdb(`SELECT DISTINCT compression FROM parquet_metadata('${file}')`);
      expect(codec[0][0]).toBe({ snappy: 'SNAPPY', zstd: 'ZSTD', gzip: 'GZIP', brotli: 'BROTLI', lz4: 'LZ4_RAW', none: 'UNCOMPRESSED' }[compression]);
    }
  });

  test('dictionary columns, partitions in order, one file per partition, and an empty output', async () => {
    const a = tableFromArrays({ id: Int32Array.from([1, 2, 3]), s: ['x', 'y', 'x'] }); // s: Dictionary<Int32, Utf8>
    const b = tableFromArrays({ id: Int32Array.from([4, 5]), s: ['z', 'x'] });
    expect(a.schema.fields[1].type.typeId).toBe(Type.Dictionary);
    const out = join(dir, 'out-parts');
    await writeSink(parquetSink, { path: 'all.parquet' }, a.schema, [a.batches, b.batches], out);
    expect(await duckdb(`SELECT id, s FROM '${join(out, 'all.parquet')}'`)).toEqual([[1, 'x'], [2, 'y'], [3, 'x'], [4, 'z'], [5, 'x']]);
    const records = await writeSink(parquetSink, { path: 'each/' }, a.schema, [a.batches, b.batches], out);
    expect(records.map((r) => r.path.slice(out.length + 1))).toEqual(['each/part-0.parquet', 'each/part-1.parquet']);
    expect(await duckdb(`SELECT count(*) FROM '${join(out, 'each', 'part-1.parquet')}'`)).toEqual([[2n]]);
    await writeSink(parquetSink, { path: 'empty.parquet' }, a.schema, [], out);
    expect(await duckdb(`SELECT count(*) FROM '${join(out, 'empty.parquet')}'`)).toEqual([[0n]]);
    expect(await duckdb(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM '${join(out, 'empty.parquet')}')`)).toEqual([['id', 'INTEGER'], ['s', 'VARCHAR']]);
  });

  test('writes as it goes: row groups reach the file before the input ends', async () => {
    const schema = new Schema([new Field('id', new Int32(), false), new Field('x', new Float64(), false)]);
    const batchRows = 50_000; // row groups of ~1 MB: the output file gathers writes up to 1 MiB
    const batch = (k: number) => {
      const id = Int32Array.from({ length: batchRows }, (_, i) => k * batchRows + i);
      const x = Float64Array.from(id, (v) => Math.sin(v));
      return new RecordBatch(schema, makeData({
        type: new Struct(schema.fields), length: batchRows, nullCount: 0,
        children: [makeData({ type: new Int32(), length: batchRows, data: id }), makeData({ type: new Float64(), length: batchRows, data: x })],
      }));
    };
    const out = join(dir, 'out-streaming');
    const writer = await parquetSink.open(parquetSink.params.parse({ path: 's.parquet', rowGroupRows: 100_000 }), { schema, outDir: out, stageId: 'out' });
    await writer.startPartition({ index: 0, key: 'p' });
    const onDisk = () => {
      const temp = readdirSync(out).find((f) => f.endsWith('.tmp'));
      return temp ? statSync(join(out, temp)).size : 0;
    };
    const sizes: number[] = [];
    for (let k = 0; k < 10; k++) {
      await writer.write(batch(k));
      // give the writer a moment (it runs a row group behind at most; up to 2 s on a busy machine),
      // but never wait for the end
      for (let t = 0; t < 200 && onDisk() === (sizes[sizes.length - 1] ?? 0); t++) await new Promise((r) => setTimeout(r, 10));
      sizes.push(onDisk());
    }
    await writer.endPartition({ index: 0, key: 'p' });
    await writer.commit();
    const final = statSync(join(out, 's.parquet')).size;
    // 5 row groups of 100,000 rows: bytes appear as they fill, long before the input ends
    const first = sizes.findIndex((size) => size > 0);
    expect(first).toBeGreaterThanOrEqual(1); // not before a row group is full
    expect(first).toBeLessThanOrEqual(4);
    expect(sizes[8]).toBeGreaterThan(sizes[first]);
    expect(sizes[8]).toBeLessThan(final);
    expect(await duckdb(`SELECT count(DISTINCT row_group_id) FROM parquet_metadata('${join(out, 's.parquet')}')`)).toEqual([[5n]]);
    expect(await duckdb(`SELECT count(*), sum(id)::BIGINT FROM '${join(out, 's.parquet')}'`)).toEqual([[500_000n, 124_999_750_000n]]);
  });
});
