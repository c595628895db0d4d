// source.csv on small written files: the CSV dialect, params, type inference and declarations,
// and the exact file:line of every error.
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { describeSchema } from '../../../src/arrow/types.ts';
import { csvSource } from '../../../connectors/csv/source.ts';
import { scratchDir } from '../../helpers.ts';
import { errorOf, readCsv, values, writeCsv } from './read-helpers.ts';

const dir = scratchDir('quiver-csv-read-');
let counter = 0;
/** Writes a file with a fresh name; returns its name and absolute path. */
function file(text: string | Uint8Array, extension = 'csv') {
  const name = writeCsv(dir, `f${++counter}.${extension}`, text);
  return { name, path: join(dir, name) };
}

async function read(text: string | Uint8Array, params: Record<string, unknown> = {}, extension = 'csv') {
  const { name } = file(text, extension);
  return readCsv({ path: name, ...params }, dir);
}

describe('the dialect (RFC 4180 and common variations)', () => {
  test('quoted fields: doubled quotes, delimiters and newlines inside, CRLF, no newline at the end', async () => {
    const { table } = await read('id,text\r\n1,"a ""quoted"" word"\r\n2,"x,y"\r\n3,"two\r\nlines"\r\n4,"line\nfeed"\r\n5,plain');
    expect(values(table, 'id')).toEqual([1, 2, 3, 4, 5]);
    expect(values(table, 'text')).toEqual(['a "quoted" word', 'x,y', 'two\r\nlines', 'line\nfeed', 'plain']);
  });

  test('a UTF-8 byte-order mark is dropped; multi-byte text is kept', async () => {
    const bom = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode('name,v\nZürich,1\n東京,2\n')]);
    const { table, schema } = await read(bom);
    expect(schema.fields.map((f) => f.name)).toEqual(['name', 'v']);
    expect(values(table, 'name')).toEqual(['Zürich', '東京']);
  });

  test('quotes: literal inside an unquoted field; text after a closing quote is kept (as Python csv does)', async () => {
    const { table } = await read('a,b\nsay "hi",1\n"ab"cd,2\n"",3\n');
    expect(values(table, 'a')).toEqual(['say "hi"', 'abcd', '']);
  });

  test('empty lines are skipped; trailing delimiter means an empty last field', async () => {
    const { table } = await read('a,b\n\n1,\n\r\n2,x\n\n');
    expect(values(table, 'a')).toEqual([1, 2]);
    expect(values(table, 'b')).toEqual([null, 'x']);
  });

  test('with a single column an empty line is a null', async () => {
    const { table } = await read('v\n1\n\n3\n');
    expect(values(table, 'v')).toEqual([1, null, 3]);
  });

  test('comment lines, skipRows', async () => {
    const { table } = await read('exported by a tool\nversion 2\n# a comment\nx;y\n1;2\n# "not a quote\n3;4\n', { skipRows: 2, comment: '#', delimiter: ';' });
    expect(values(table, 'x')).toEqual([1, 3]);
    expect(values(table, 'y')).toEqual([2, 4]);
  });

  test('tab is the default delimiter of .tsv files', async () => {
    const { table } = await read('a\tb\n1,5\t2\n', {}, 'tsv');
    expect(values(table, 'a')).toEqual(['1,5']);
    expect(values(table, 'b')).toEqual([2]);
  });

  test("quote: '' turns quoting off", async () => {
    const { table } = await read('a,b\n"x,1\n', { quote: '' });
    expect(values(table, 'a')).toEqual(['"x']);
  });

  test('nullValues: unquoted spellings are null; a quoted one in a text column is text; "" is an empty string', async () => {
    const { table, schema } = await read('n,s\nNA,NA\n1,"NA"\n2,""\n,\n', { nullValues: ['NA', ''] });
    expect(describeSchema(schema)).toBe('n: int64, s: utf8');
    expect(values(table, 'n')).toEqual([null, 1, 2, null]);
    expect(values(table, 's')).toEqual([null, 'NA', '', null]);
  });

  test('numbers, bools and timestamps may have spaces around them', async () => {
    const { table, schema } = await read('a,b,c\n 1 , 2.5 , true \n');
    expect(describeSchema(schema)).toBe('a: int64, b: float64, c: bool');
    expect(table.get(0)!.toJSON()).toEqual({ a: 1n, b: 2.5, c: true });
  });
});

describe('column names', () => {
  test('without a header: column_1..column_n, or columns', async () => {
    expect((await read('1,2\n3,4\n', { header: false })).schema.fields.map((f) => f.name)).toEqual(['column_1', 'column_2']);
    const { table } = await read('1,2\n3,4\n', { header: false, columns: ['x', 'y'] });
    expect(values(table, 'y')).toEqual([2, 4]);
  });

  test('with a header, columns replace its names', async () => {
    const { schema } = await read('a,b\n1,2\n', { columns: ['x', 'y'] });
    expect(schema.fields.map((f) => f.name)).toEqual(['x', 'y']);
  });

  test('empty names become column_N, repeated ones get a suffix', async () => {
    const { schema } = await read(',a,a,,a_2\n1,2,3,4,5\n');
    expect(schema.fields.map((f) => f.name)).toEqual(['column_1', 'a', 'a_3', 'column_4', 'a_2']);
  });
});

describe('types: inferred and declared', () => {
  test('inference: bool, int64, float64 (with NaN/inf), ISO timestamps, utf8; all-null → utf8', async () => {
    const { table, schema } = await read([
      'b,i,f,t,d,s,empty,mixed,big,huge',
      'true,1,1.5,2020-01-03T09:30:00,2020-01-03,x,,1,9007199254740993,99999999999999999999',
      'FALSE,-2,NaN,2020-01-03 09:30:00.123,2020-01-04,y,,a,-9223372036854775808,1',
      ',3,-inf,2020-01-03T09:30:00+01:00,,,,2.5,1,2',
    ].join('\n'));
    expect(describeSchema(schema)).toBe('b: bool, i: int64, f: float64, t: timestamp[ms, UTC], d: timestamp[ms, UTC], s: utf8, empty: utf8, mixed: utf8, big: int64, huge: float64');
    expect(values(table, 'b')).toEqual([true, false, null]);
    expect(values(table, 'f')).toEqual([1.5, NaN, -Infinity]);
    expect(values(table, 't')).toEqual(['2020-01-03T09:30:00.000Z', '2020-01-03T09:30:00.123Z', '2020-01-03T08:30:00.000Z']);
    expect(values(table, 'd')).toEqual(['2020-01-03T00:00:00.000Z', '2020-01-04T00:00:00.000Z', null]);
    expect(values(table, 'big')).toEqual([9007199254740993n, -9223372036854775808n, 1]);
    expect(values(table, 'huge')).toEqual([1e20, 1, 2]);
    expect(values(table, 'empty')).toEqual([null, null, null]);
  });

  test('declared types win; other columns are still inferred', async () => {
    const { table, schema } = await read('zip,n,x,on,day,at\n00501,7,1.5,1,2020-01-03,2020-01-03T09:30:00.123456\n', {
      schema: { zip: 'utf8', n: 'int16', x: 'float32', on: 'bool', day: 'date32', at: 'timestamp[us, UTC]' },
    });
    expect(describeSchema(schema)).toBe('zip: utf8, n: int16, x: float32, on: bool, day: date32, at: timestamp[us, UTC]');
    expect(table.get(0)!.toJSON()).toMatchObject({ zip: '00501', n: 7, x: 1.5, on: true });
    expect(table.getChild('day')!.data[0].values[0]).toBe(18264);
    expect(table.getChild('at')!.data[0].values[0]).toBe(1578043800123456n);
    expect((await read('zip\n00501\n')).schema.fields[0].type.toString()).toBe('Int64');
  });

  test('timestampFormat: one for all columns, or per column; timezone for values without an offset', async () => {
    const text = 'a,b,n\n03/01/2020 09:30,2020-01-03T09:30:00,20200103\n';
    const one = await read(text, { timestampFormat: '%d/%m/%Y %H:%M', timezone: 'America/New_York' });
    expect(describeSchema(one.schema)).toBe('a: timestamp[ms, UTC], b: timestamp[ms, UTC], n: int64');
    expect(values(one.table, 'a')).toEqual(['2020-01-03T14:30:00.000Z']);
    expect(values(one.table, 'b')).toEqual(['2020-01-03T14:30:00.000Z']);
    const each = await read(text, { timestampFormat: { a: '%d/%m/%Y %H:%M', n: '%Y%m%d' } });
    expect(describeSchema(each.schema)).toBe('a: timestamp[ms, UTC], b: timestamp[ms, UTC], n: timestamp[ms, UTC]');
    expect(values(each.table, 'n')).toEqual(['2020-01-03T00:00:00.000Z']);
  });

  test('timezone across a DST change (Europe/Berlin, 2021-03-28 02:00 → 03:00)', async () => {
    const { table } = await read('t\n2021-03-28 01:30\n2021-03-28 03:30\n2021-10-31 02:30\n2021-10-31 03:30\n', { timezone: 'Europe/Berlin' });
    expect(values(table, 't')).toEqual(['2021-03-28T00:30:00.000Z', '2021-03-28T01:30:00.000Z', '2021-10-31T00:30:00.000Z', '2021-10-31T02:30:00.000Z']);
  });

  test('batches hold at most batchRows rows', async () => {
    const { batches, table } = await read(`v\n${Array.from({ length: 25 }, (_, i) => i).join('\n')}\n`, { batchRows: 10 });
    expect(batches.map((b) => b.numRows)).toEqual([10, 10, 5]);
    expect(values(table, 'v')).toEqual(Array.from({ length: 25 }, (_, i) => i));
  });
});

describe('files', () => {
  test('a glob: one partition per file, ordered by path', async () => {
    const sub = scratchDir('quiver-csv-glob-');
    writeCsv(sub, 'b.csv', 'x\n2\n');
    writeCsv(sub, 'a.csv', 'x\n1\n');
    writeCsv(sub, 'c.txt', 'x\n3\n');
    const p = csvSource.params.parse({ path: '*.csv' });
    const { partitions } = await csvSource.discover(p, { baseDir: sub });
    expect(partitions.map((x) => x.key)).toEqual(['a.csv', 'b.csv']); // relative to the workflow folder
    expect(partitions.map((x) => x.file)).toEqual([join(sub, 'a.csv'), join(sub, 'b.csv')]);
    expect(values((await readCsv({ path: '*.csv' }, sub)).table, 'x')).toEqual([1, 2]);
  });

  test('no match: the error names the pattern and the folder', async () => {
    expect(await errorOf(readCsv({ path: 'nothing/*.csv' }, dir))).toBe(`no file matches 'nothing/*.csv' in ${dir}`);
    expect(await errorOf(readCsv({ path: 'missing.csv' }, dir))).toBe(`no file matches 'missing.csv' in ${dir}`);
  });

  test('a header that differs from the first file names the file', async () => {
    const sub = scratchDir('quiver-csv-headers-');
    writeCsv(sub, 'a.csv', 'x,y\n1,2\n');
    writeCsv(sub, 'b.csv', 'x,z\n1,2\n');
    expect(await errorOf(readCsv({ path: '*.csv' }, sub))).toBe(`${join(sub, 'b.csv')}:1: the header differs from the first file's: expected x,y; found x,z`);
  });
});

describe('errors name the file and the physical line', () => {
  test('wrong number of fields', async () => {
    const { path, name } = file('a,b,c,d,e,f\n1,2,3,4,5,6\n1,2,3,4,5\n');
    expect(await errorOf(readCsv({ path: name }, dir))).toBe(`${path}:3: expected 6 fields, found 5`);
  });

  test('lines inside quoted fields count', async () => {
    const { path, name } = file('a,b\n1,"x\ny\nz"\n2,ok\n3\n');
    expect(await errorOf(readCsv({ path: name }, dir))).toBe(`${path}:6: expected 2 fields, found 1`);
  });

  test('an unterminated quote: the line where it opens', async () => {
    const { path, name } = file('a,b\n1,2\n3,"open\n4,5\n');
    expect(await errorOf(readCsv({ path: name }, dir))).toBe(`${path}:3: unterminated quoted field (the quote opened here is never closed)`);
  });

  test('an empty file', async () => {
    const { path, name } = file('');
    expect(await errorOf(readCsv({ path: name }, dir))).toBe(`${path}:1: empty file: no header line`);
    const sub = scratchDir('quiver-csv-empty-');
    writeCsv(sub, 'a.csv', 'x\n1\n');
    writeCsv(sub, 'b.csv', '\n');
    expect(await errorOf(readCsv({ path: '*.csv' }, sub))).toBe(`${join(sub, 'b.csv')}:2: empty file: no header line`);
  });

  test('a value that does not fit the type inferred from the sample (past the first 10,000 rows)', async () => {
    const rows = Array.from({ length: 12_000 }, (_, i) => `${i},${i % 7}`);
    rows[10_500] = '10500,seven';
    const { path, name } = file(`id,v\n${rows.join('\n')}\n`);
    expect(await errorOf(readCsv({ path: name }, dir))).toBe(
      `${path}:10502: column 'v': cannot read 'seven' as int64 (the type inferred from a sample of the first file; declare the column in schema, e.g. schema: {v: utf8})`);
    const declared = await readCsv({ path: name, schema: { v: 'utf8' } }, dir);
    expect(values(declared.table, 'v')[10_500]).toBe('seven');
  });

  test('a value that does not fit a declared type', async () => {
    const { path, name } = file('id,when\n1,2020-01-03\n2,yesterday\n');
    expect(await errorOf(readCsv({ path: name, schema: { when: 'timestamp[ms, UTC]' } }, dir))).toBe(
      `${path}:3: column 'when': cannot read 'yesterday' as timestamp[ms, UTC] (declared in schema)`);
    const { path: p2, name: n2 } = file('n\n1\n300\n');
    expect(await errorOf(readCsv({ path: n2, schema: { n: 'int8' } }, dir))).toBe(`${p2}:3: column 'n': cannot read '300' as int8 (declared in schema)`);
  });

  test('params: a schema column that is not there, an unknown type or zone, a bad format', async () => {
    const { path, name } = file('a,b\n1,2\n');
    expect(await errorOf(readCsv({ path: name, schema: { c: 'int64' } }, dir))).toBe(`${path}:1: has no column 'c', which schema names (columns: a, b)`);
    expect(csvSource.params.safeParse({ path: 'x', schema: { a: 'int' } }).error?.issues[0].message).toMatch("unknown type 'int'");
    expect(csvSource.params.safeParse({ path: 'x', timezone: 'Nowhere/City' }).error?.issues[0].message).toMatch("unknown time zone 'Nowhere/City'");
    expect(csvSource.params.safeParse({ path: 'x', timestampFormat: '%Q' }).error?.issues[0].message).toMatch("unknown directive '%Q'");
    expect(csvSource.params.safeParse({ path: 'x', delimiter: ';;' }).success).toBe(false);
    expect(csvSource.params.safeParse({ path: 'x', unknown: 1 }).success).toBe(false);
    expect(await errorOf(readCsv({ path: name, schema: { a: 'list<int64>' } }, dir))).toMatch("column 'a': source.csv cannot read list<int64>");
  });
});
