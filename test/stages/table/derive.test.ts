// table.derive: columns added in order, later ones using earlier ones, existing names replaced in
// place, types and nullability in the output schema, and errors that say which column is wrong.
import { Field, Float64, Int32, Int64, List, makeData, makeVector, RecordBatch, Schema, Struct, Utf8, vectorFromArray, type Vector } from 'apache-arrow';
import { describe, expect, test } from 'vitest';
import { typeName } from '../../../src/arrow/types.ts';
import { derive } from '../../../src/stages/table/derive.ts';
import { ColumnTypeError, MissingColumnError, SchemaError } from '../../../src/workflow/errors.ts';
import type { MapFunction } from '../../../src/workflow/stage.ts';

function batchOf(columns: Record<string, Vector>): RecordBatch {
  const fields = Object.entries(columns).map(([name, v]) => new Field(name, v.type, false));
  const length = Object.values(columns)[0]?.length ?? 0;
  return new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length, children: Object.values(columns).map((v) => v.data[0]) }));
}

const partition = { index: 0, key: 'p0' };

async function prepare(columns: unknown, schema: Schema): Promise<{ out: Schema; fn: MapFunction }> {
  const params = derive.params.parse({ columns });
  const out = derive.outputSchema({ params, inputs: [schema], baseDir: '.' });
  const fn = await derive.create(params, { inputSchema: schema, outputSchema: out, baseDir: '.' });
  return { out, fn };
}

const describeSchema = (s: Schema) => s.fields.map((f) => `${f.name}: ${typeName(f.type)}${f.nullable ? '?' : ''}`);
const column = (batch: RecordBatch, name: string) => [...batch.getChild(name)!];

const open = [10, 20, 30.5, 40];
const high = [12, 21, 31, 45];
const low = [9, 18.5, 30, 39];
const close = [11, 19, 30.5, 44];
const prices = batchOf({
  open: vectorFromArray(open, new Float64()),
  high: vectorFromArray(high, new Float64()),
  low: vectorFromArray(low, new Float64()),
  close: vectorFromArray(close, new Float64()),
  volume: vectorFromArray([100, 200, 0, 400], new Int32()),
  ticker: vectorFromArray(['aapl', 'msft', 'goog', 'amzn'], new Utf8()),
});

describe('table.derive', () => {
  test('adds columns in the order given, with their types, nullable', async () => {
    const { out, fn } = await prepare({ range: 'high - low', ret: 'log(close / open)', up: 'close > open', name: 'upper(ticker)', v2: 'volume * 2' }, prices.schema);
    expect(describeSchema(out)).toEqual([
      'open: float64', 'high: float64', 'low: float64', 'close: float64', 'volume: int32', 'ticker: utf8',
      'range: float64?', 'ret: float64?', 'up: bool?', 'name: utf8?', 'v2: int64?',
    ]);
    const result = (await fn(prices, partition))!;
    expect(describeSchema(result.schema)).toEqual(describeSchema(out));
    expect(column(result, 'range')).toEqual(high.map((h, i) => h - low[i]));
    expect(column(result, 'ret')).toEqual(close.map((c, i) => Math.log(c / open[i])));
    expect(column(result, 'up')).toEqual(close.map((c, i) => c > open[i]));
    expect(column(result, 'name')).toEqual(['AAPL', 'MSFT', 'GOOG', 'AMZN']);
    expect(column(result, 'v2')).toEqual([200n, 400n, 0n, 800n]);
    // The input columns are passed on untouched.
    expect(result.getChild('open')!.data[0]).toBe(prices.data.children[0]);
  });

  test('a later expression may use an earlier derived column', async () => {
    const { out, fn } = await prepare({ ret: 'close / open - 1', big: 'abs(ret) > 0.05', label: "if(big, 'move', 'flat')" }, prices.schema);
    expect(describeSchema(out).slice(-3)).toEqual(['ret: float64?', 'big: bool?', 'label: utf8?']);
    const result = (await fn(prices, partition))!;
    const ret = close.map((c, i) => c / open[i] - 1);
    expect(column(result, 'ret')).toEqual(ret);
    expect(column(result, 'big')).toEqual(ret.map((r) => Math.abs(r) > 0.05));
    expect(column(result, 'label')).toEqual(ret.map((r) => (Math.abs(r) > 0.05 ? 'move' : 'flat')));
  });

  test('a name that exists is replaced in place, and later expressions see the new values', async () => {
    const { out, fn } = await prepare({ close: 'round(close * 2)', volume: 'volume + 1', doubled: 'close' }, prices.schema);
    expect(describeSchema(out)).toEqual([
      'open: float64', 'high: float64', 'low: float64', 'close: float64?', 'volume: int64?', 'ticker: utf8', 'doubled: float64?',
    ]);
    const result = (await fn(prices, partition))!;
    expect(column(result, 'close')).toEqual(close.map((c) => Math.round(c * 2)));
    expect(column(result, 'volume')).toEqual([101n, 201n, 1n, 401n]);
    expect(column(result, 'doubled')).toEqual(close.map((c) => Math.round(c * 2)));
  });

  test('constants, copies of any type, and nulls', async () => {
    const items = makeVector(makeData({
      type: new List(new Field('item', new Int32(), true)), length: 2, nullCount: 0,
      valueOffsets: Int32Array.of(0, 2, 3), child: makeData({ type: new Int32(), length: 3, nullCount: 0, data: Int32Array.of(1, 2, 3) }),
    }));
    const b = batchOf({ items, x: vectorFromArray([1.5, 2.5], new Float64()) });
    const { out, fn } = await prepare({ one: '1', copy: 'items', none: 'null', missing: 'is_null(items)', tag: "'v1'" }, b.schema);
    expect(describeSchema(out).slice(2)).toEqual(['one: int64?', 'copy: list<int32>?', 'none: null?', 'missing: bool?', 'tag: utf8?']);
    const result = (await fn(b, partition))!;
    expect(column(result, 'one')).toEqual([1n, 1n]);
    expect(result.getChild('copy')!.data[0]).toBe(b.data.children[0]);
    expect(column(result, 'none')).toEqual([null, null]);
    expect(column(result, 'missing')).toEqual([false, false]);
    expect(column(result, 'tag')).toEqual(['v1', 'v1']);
  });

  test('int64 columns stay exact', async () => {
    const ids = [2n ** 62n + 1n, -(2n ** 62n), 3n];
    const b = batchOf({ id: vectorFromArray(ids, new Int64()) });
    const { fn } = await prepare({ next: 'id + 1', half: 'id % 2', neg: '-id' }, b.schema);
    const result = (await fn(b, partition))!;
    expect(column(result, 'next')).toEqual(ids.map((v) => v + 1n));
    expect(column(result, 'half')).toEqual(ids.map((v) => v % 2n));
    expect(column(result, 'neg')).toEqual(ids.map((v) => -v));
  });

  test('works on sliced batches', async () => {
    const part = prices.slice(1, 3);
    const { fn } = await prepare({ mid: '(high + low) / 2', t: 'lower(upper(ticker))' }, part.schema);
    const result = (await fn(part, partition))!;
    expect(result.numRows).toBe(2);
    expect(column(result, 'mid')).toEqual([(21 + 18.5) / 2, (31 + 30) / 2]);
    expect(column(result, 't')).toEqual(['msft', 'goog']);
  });

  test('a column derived later cannot be used earlier', () => {
    const params = derive.params.parse({ columns: { a: 'b + 1', b: 'open * 2' } });
    const check = () => derive.outputSchema({ params, inputs: [prices.schema], baseDir: '.' });
    expect(check).toThrow(SchemaError);
    expect(check).toThrow("column 'a' = 'b + 1' uses 'b', which is derived after it");
  });

  test('an unknown column is a MissingColumnError listing the input columns', () => {
    const params = derive.params.parse({ columns: { r: 'close - opne' } });
    try {
      derive.outputSchema({ params, inputs: [prices.schema], baseDir: '.' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(MissingColumnError);
      expect((error as MissingColumnError).column).toBe('opne');
      expect((error as MissingColumnError).available).toEqual(['open', 'high', 'low', 'close', 'volume', 'ticker']);
    }
  });

  test('type errors: an input column is a ColumnTypeError, a derived one a SchemaError naming the derived column', () => {
    const input = derive.params.parse({ columns: { r: 'sqrt(ticker)' } });
    try {
      derive.outputSchema({ params: input, inputs: [prices.schema], baseDir: '.' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ColumnTypeError);
      expect(error).toMatchObject({ column: 'ticker', expected: 'a number', actual: 'utf8' });
    }
    const derived = derive.params.parse({ columns: { label: 'upper(ticker)', bad: 'label * 2' } });
    const check = () => derive.outputSchema({ params: derived, inputs: [prices.schema], baseDir: '.' });
    expect(check).toThrow(SchemaError);
    expect(check).toThrow("column 'bad': in 'label * 2': '*' needs a number, but column 'label' is utf8 at position 0");
  });

  test('params: columns is a non-empty map of names to expressions', () => {
    expect(derive.params.safeParse({ columns: {} }).success).toBe(false);
    expect(derive.params.safeParse({ columns: { a: 1 } }).success).toBe(false);
    expect(derive.params.safeParse({ columns: { a: 'x' }, where: 'y' }).success).toBe(false);
    expect(derive.params.safeParse({}).success).toBe(false);
  });
});
