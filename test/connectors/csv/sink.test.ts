// sink.csv: what it writes reads back (through source.csv) to the same values, and DuckDB reads
// the same values from it.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  Bool, DateDay, Field, Float64, Int32, Int64, List, RecordBatch, Schema, Struct, Table, TimeUnit, Timestamp, Utf8,
  makeData, vectorFromArray, type DataType,
} from 'apache-arrow';
import { describe, expect, test } from 'vitest';
import { csvSink } from '../../../connectors/csv/sink.ts';
import { duckdb, scratchDir } from '../../helpers.ts';
import { readCsv } from './read-helpers.ts';

const out = scratchDir('quiver-csv-sink-');

const strings = ['plain', 'a,comma', 'say "hi"', 'two\nlines', ' padded ', '', null, 'Zürich 東京', 'crlf\r\nend', 'trailing '];
const floats = [0.1, -0, 1e21, 5e-324, NaN, Infinity, -Infinity, 1 / 3, null, -123.456];
const ints = [0n, -1n, 9007199254740993n, -9223372036854775808n, 9223372036854775807n, null, 42n, 4294967296n, -4294967297n, 7n];
const times = [0, Date.UTC(2020, 0, 3, 9, 30, 0, 123), -1, Date.UTC(1969, 6, 20, 20, 17), null, 1e12, Date.UTC(2038, 0, 19), 86_400_000, 1, Date.UTC(2000, 1, 29)];
const days = [0, 18264, -1, null, 11016, 1, 2, 3, 4, 5];
const bools = [true, false, null, true, false, true, false, true, false, true];
const small = [1, -2, 3, null, 2147483647, -2147483648, 0, 5, 6, 7];
const lists = [[1, 2.5], [], null, [NaN], [1e21], [0], [1], [2], [3], [4]];

function sampleTable(): Table {
  const make = (name: string, type: DataType, values: unknown[]) => ({ field: new Field(name, type, true), vector: vectorFromArray(values as never, type as never) });
  const columns = [
    make('s', new Utf8(), strings),
    make('f', new Float64(), floats),
    make('i', new Int64(), ints),
    make('t', new Timestamp(TimeUnit.MILLISECOND, 'UTC'), times),
    make('d', new DateDay(), days.map((d) => (d === null ? null : new Date(d * 86_400_000)))),
    make('b', new Bool(), bools),
    make('n', new Int32(), small),
    make('l', new List(new Field('item', new Float64(), true)), lists),
  ];
  const schema = new Schema(columns.map((c) => c.field));
  const children = columns.map((c) => c.vector.data[0]);
  return new Table(schema, [new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: strings.length, nullCount: 0, children }))]);
}

async function write(table: Table, path: string, params: Record<string, unknown> = {}, partitions = 1) {
  const p = csvSink.params.parse({ path, ...params });
  const writer = await csvSink.open(p, { schema: table.schema, outDir: out, stageId: 'out' });
  for (let index = 0; index < partitions; index++) {
    const partition = { index, key: `/data/part-${index}.csv` };
    await writer.startPartition(partition);
    for (const batch of table.batches) await writer.write(batch);
    await writer.endPartition(partition);
  }
  return writer.commit();
}

describe('sink.csv', () => {
  const table = sampleTable();

  test('writes the documented text for each type', async () => {
    await write(table, 'text.csv');
    const text = readFileSync(join(out, 'text.csv'), 'utf8');
    const lines = text.split('\n');
    expect(lines[0]).toBe('s,f,i,t,d,b,n,l');
    expect(lines[1]).toBe('plain,0.1,0,1970-01-01T00:00:00.000Z,1970-01-01,true,1,"[1,2.5]"');
    expect(lines[2]).toBe('"a,comma",-0,-1,2020-01-03T09:30:00.123Z,2020-01-03,false,-2,"[]"');
    expect(lines[3]).toBe('"say ""hi""",1e+21,9007199254740993,1969-12-31T23:59:59.999Z,1969-12-31,,3,');
    expect(text).toContain('\n"two\nlines",5e-324,-9223372036854775808,1969-07-20T20:17:00.000Z,,true,,"[null]"\n');
    expect(text).toContain('\n" padded ",NaN,9223372036854775807,,2000-02-29,false,2147483647,"[1e+21]"\n');
    expect(text).toContain('\n"",Infinity,,');
    expect(text).toContain('\n,-Infinity,42,');
    expect(text.endsWith('\n')).toBe(true);
  });

  test('round-trips through source.csv', async () => {
    await write(table, 'round.csv');
    const { table: back, schema } = await readCsv({
      path: 'round.csv', schema: { d: 'date32', n: 'int32', l: 'utf8' },
    }, out);
    expect(schema.toString()).toBe(new Schema(table.schema.fields.map((f) => f.name === 'l' ? new Field('l', new Utf8(), true) : f)).toString());
    expect(back.numRows).toBe(table.numRows);
    for (const field of table.schema.fields) {
      if (field.name === 'l') continue;
      const a = table.getChild(field.name)!;
      const b = back.getChild(field.name)!;
      for (let i = 0; i < table.numRows; i++) expect(b.get(i), `${field.name}[${i}]`).toEqual(a.get(i));
    }
    expect(Object.is(back.getChild('f')!.get(1), -0)).toBe(true);
    expect(back.getChild('l')!.get(0)).toBe('[1,2.5]');
  });

  test('DuckDB reads the same values from the file', async () => {
    await write(table, 'duck.csv');
    const rows = await duckdb(`SELECT s, f::DOUBLE, i::BIGINT, epoch_ms(t::TIMESTAMPTZ), d::DATE::VARCHAR, b::BOOLEAN, n::INTEGER, l
      FROM read_csv('${join(out, 'duck.csv')}', all_varchar=true, allow_quoted_nulls=false)`);
    expect(rows.length).toBe(table.numRows);
    rows.forEach((row, i) => {
      expect(row[0], `s[${i}]`).toBe(strings[i]);
      expect(Object.is(row[1], floats[i]) || (row[1] === null && floats[i] === null) || (Number.isNaN(row[1]) && Number.isNaN(floats[i])), `f[${i}]: ${row[1]}`).toBe(true);
      expect(row[2], `i[${i}]`).toBe(ints[i]);
      expect(row[3] === null ? null : Number(row[3]), `t[${i}]`).toBe(times[i]);
      expect(row[4], `d[${i}]`).toBe(days[i] === null ? null : new Date(days[i]! * 86_400_000).toISOString().slice(0, 10));
      expect(row[5], `b[${i}]`).toBe(bools[i]);
      expect(row[6], `n[${i}]`).toBe(small[i]);
    });
  });

  test("x.csv holds every partition in order under one header; dir/ writes one file per partition; options", async () => {
    await write(table, 'all.csv', {}, 3);
    const all = await readCsv({ path: 'all.csv', schema: { l: 'utf8' } }, out);
    expect(all.table.numRows).toBe(3 * table.numRows);
    await write(table, 'parts/', { delimiter: ';', header: false }, 2);
    expect(readdirSync(join(out, 'parts')).sort()).toEqual(['part-0.csv', 'part-1.csv']);
    const first = readFileSync(join(out, 'parts', 'part-0.csv'), 'utf8').split('\n')[0];
    expect(first).toBe('plain;0.1;0;1970-01-01T00:00:00.000Z;1970-01-01;true;1;"[1,2.5]"');
    expect(csvSink.params.safeParse({ path: '../escape.csv' }).success).toBe(false);
    expect(csvSink.params.safeParse({ path: 'x.csv', delimiter: '"' }).success).toBe(false);
  });

  test('a single column of nulls and empty strings keeps them apart', async () => {
    const one = new Table({ v: vectorFromArray(['a', null, '', 'b'], new Utf8()) });
    await write(one, 'one.csv');
    expect(readFileSync(join(out, 'one.csv'), 'utf8')).toBe('v\na\n\n""\nb\n');
    const back = await readCsv({ path: 'one.csv' }, out);
    expect(back.table.getChild('v')!.toArray()).toEqual(['a', null, '', 'b']);
  });

  test('dictionary-encoded text is written as its values; structs as JSON text', async () => {
    const dict = vectorFromArray(['x', 'y, z', null, 'x']);
    const structType = new Struct([new Field('a', new Int32(), true), new Field('b', new Utf8(), true)]);
    const struct = vectorFromArray([{ a: 1, b: 'q' }, { a: 2, b: 'r"s' }, null, { a: 4, b: '' }], structType);
    const mixed = new Table({ tag: dict, obj: struct });
    expect(String(mixed.schema.fields[0].type)).toMatch(/^Dictionary/);
    await write(mixed, 'mixed.csv');
    expect(readFileSync(join(out, 'mixed.csv'), 'utf8')).toBe(
      'tag,obj\nx,"{""a"":1,""b"":""q""}"\n"y, z","{""a"":2,""b"":""r\\""s""}"\n,\nx,"{""a"":4,""b"":""""}"\n');
  });

  test('a larger table (written in blocks of about 1 MiB) reads back', async () => {
    const n = 300_000;
    const big = new Table({ x: vectorFromArray(Float64Array.from({ length: n }, (_, i) => i / 7)) });
    const records = await write(big, 'big.csv');
    expect(records[0].bytes).toBeGreaterThan(4_000_000);
    const back = await readCsv({ path: 'big.csv' }, out);
    expect(back.table.numRows).toBe(n);
    expect(back.table.getChild('x')!.get(n - 1)).toBe((n - 1) / 7);
  });
});
