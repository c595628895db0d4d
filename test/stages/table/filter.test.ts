// table.filter: rows where the predicate is true are kept, null counts as false, the schema is
// the input's, and expression mistakes surface at validation, naming both stages.
import { Bool, Field, Float64, Int64, makeData, makeVector, RecordBatch, Schema, Struct, Utf8, vectorFromArray, type Vector } from 'apache-arrow';
import { describe, expect, test } from 'vitest';
import { generateSource } from '../../../src/stages/table/generate.ts';
import { derive } from '../../../src/stages/table/derive.ts';
import { filter } from '../../../src/stages/table/filter.ts';
import { StageCatalog } from '../../../src/workflow/catalog.ts';
import { ColumnTypeError, MissingColumnError, SchemaError } from '../../../src/workflow/errors.ts';
import { parseWorkflow } from '../../../src/workflow/load.ts';
import type { MapFunction } from '../../../src/workflow/stage.ts';
import { validateWorkflow } from '../../../src/workflow/validate.ts';

function batchOf(columns: Record<string, Vector>): RecordBatch {
  const fields = Object.entries(columns).map(([name, v]) => new Field(name, v.type, true));
  const length = Object.values(columns)[0]?.length ?? 0;
  return new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length, children: Object.values(columns).map((v) => v.data[0]) }));
}

const partition = { index: 0, key: 'p0' };

/** Parses params, works out the output schema and creates the per-batch function, as the engine does. */
async function prepare(where: unknown, schema: Schema): Promise<{ out: Schema; fn: MapFunction }> {
  const params = filter.params.parse({ where });
  const out = filter.outputSchema({ params, inputs: [schema], baseDir: '.' });
  const fn = await filter.create(params, { inputSchema: schema, outputSchema: out, baseDir: '.' });
  return { out, fn };
}

const rowsOf = (batch: RecordBatch) => batch.toArray().map((r) => r.toJSON());

const open = [10, 20, null, 40, 50, 60];
const close = [11, 19, 30, null, 55, 60];
const volume = [100n, 0n, 300n, 400n, null, 600n];
const ticker = ['A', 'B', 'C', 'D', 'E', null];
const prices = batchOf({
  open: vectorFromArray(open, new Float64()),
  close: vectorFromArray(close, new Float64()),
  volume: vectorFromArray(volume, new Int64()),
  ticker: vectorFromArray(ticker, new Utf8()),
});

describe('table.filter', () => {
  test('keeps rows where the predicate is true; null counts as false', async () => {
    const { out, fn } = await prepare('close > open and volume > 0', prices.schema);
    expect(out).toBe(prices.schema);
    const result = (await fn(prices, partition))!;
    expect(result.schema.fields).toEqual(prices.schema.fields);
    // Rows 0 and 5 qualify (row 4 has a null volume, row 2 a null open, row 3 a null close).
    const want = open.flatMap((o, i) =>
      o !== null && close[i] !== null && volume[i] !== null && close[i]! > o && volume[i]! > 0n ? [i] : []);
    expect(want).toEqual([0]);
    expect(result.numRows).toBe(1);
    expect(rowsOf(result)).toEqual([{ open: 10, close: 11, volume: 100n, ticker: 'A' }]);
  });

  test('or with nulls: a row is kept only where the result is true', async () => {
    const { fn } = await prepare("close >= open or ticker == 'D'", prices.schema);
    const result = (await fn(prices, partition))!;
    // Row 2: null or false = null (dropped); row 3: null or true = true (kept); row 5: true or null = true.
    expect(rowsOf(result).map((r) => r.ticker)).toEqual(['A', 'D', 'E', null]);
  });

  test('keeps every column, including strings and nulls, intact', async () => {
    const { fn } = await prepare('is_null(open) or is_null(ticker)', prices.schema);
    const result = (await fn(prices, partition))!;
    expect(rowsOf(result)).toEqual([
      { open: null, close: 30, volume: 300n, ticker: 'C' },
      { open: 60, close: 60, volume: 600n, ticker: null },
    ]);
  });

  test('all rows kept gives the batch back; none kept gives an empty batch', async () => {
    const all = await prepare('true', prices.schema);
    expect(await all.fn(prices, partition)).toBe(prices);
    const none = await prepare('volume < 0', prices.schema);
    expect((await none.fn(prices, partition))!.numRows).toBe(0);
  });

  test('a bool column alone is a predicate', async () => {
    const b = batchOf({ ok: vectorFromArray([true, null, false, true], new Bool()), n: vectorFromArray([1, 2, 3, 4], new Float64()) });
    const { fn } = await prepare('ok', b.schema);
    expect(rowsOf((await fn(b, partition))!).map((r) => r.n)).toEqual([1, 4]);
  });

  test('works on a sliced batch and agrees with JS on a large random batch', async () => {
    const n = 100_000;
    const x = new Float64Array(n);
    const y = new Float64Array(n);
    let s = 12345;
    const r = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
    for (let i = 0; i < n; i++) { x[i] = r(); y[i] = r(); }
    const big = batchOf({
      x: makeVector(makeData({ type: new Float64(), length: n, nullCount: 0, data: x })),
      y: makeVector(makeData({ type: new Float64(), length: n, nullCount: 0, data: y })),
    }).slice(1000, 90_000);
    const { fn } = await prepare('x > 0.5 and y < 0.3', big.schema);
    const result = (await fn(big, partition))!;
    const want: number[] = [];
    for (let i = 1000; i < 90_000; i++) if (x[i] > 0.5 && y[i] < 0.3) want.push(x[i]);
    expect(result.numRows).toBe(want.length);
    expect(Array.from(result.getChild('x')!.toArray() as Float64Array)).toEqual(want);
  });

  test('a where that is not bool is a SchemaError saying its type', () => {
    const params = filter.params.parse({ where: 'close - open' });
    const check = () => filter.outputSchema({ params, inputs: [prices.schema], baseDir: '.' });
    expect(check).toThrow(SchemaError);
    expect(check).toThrow("'where' must be a bool expression, but 'close - open' is float64");
    const text = filter.params.parse({ where: 'lower(ticker)' });
    expect(() => filter.outputSchema({ params: text, inputs: [prices.schema], baseDir: '.' })).toThrow('is utf8');
  });

  test('unknown columns and wrong types are found from the schema alone', () => {
    const missing = filter.params.parse({ where: 'adj_close > 1' });
    expect(() => filter.outputSchema({ params: missing, inputs: [prices.schema], baseDir: '.' })).toThrow(MissingColumnError);
    const wrong = filter.params.parse({ where: 'sqrt(ticker) > 1' });
    expect(() => filter.outputSchema({ params: wrong, inputs: [prices.schema], baseDir: '.' })).toThrow(ColumnTypeError);
    const syntax = filter.params.parse({ where: 'close >> 1' });
    expect(() => filter.outputSchema({ params: syntax, inputs: [prices.schema], baseDir: '.' })).toThrow("in 'close >> 1': unexpected '>' at position 7");
  });

  test('params: where is a non-empty string and nothing else', () => {
    expect(filter.params.safeParse({}).success).toBe(false);
    expect(filter.params.safeParse({ where: '' }).success).toBe(false);
    expect(filter.params.safeParse({ where: 'x > 1', extra: 1 }).success).toBe(false);
    expect(filter.params.safeParse({ where: 5 }).success).toBe(false);
  });

  test('quiver validate reports expression problems naming both stages, before reading data', async () => {
    const catalog = new StageCatalog([generateSource, filter, derive]);
    const validate = async (where: string) => {
      const yaml = [
        'name: filter-test',
        'stages:',
        '  - id: src',
        '    use: source.generate',
        '    with: { rows: 10, columns: { id: int64, x: float64 } }',
        '  - id: keep',
        '    use: table.filter',
        '    from: src',
        `    with: { where: ${JSON.stringify(where)} }`,
      ].join('\n');
      const loaded = parseWorkflow(yaml, 'test.yaml', '.');
      expect(loaded.problems).toEqual([]);
      return (await validateWorkflow(loaded.spec!, loaded.source, { catalog })).problems.map((p) => p.message);
    };
    expect(await validate('x > 0.5 and id % 2 == 0')).toEqual([]);
    const [missing] = await validate('price > 1');
    expect(missing).toContain("needs column 'price'");
    expect(missing).toContain("stage 'src'");
    expect(missing).toContain('id, x');
    const [wrongType] = await validate('x and id > 1');
    expect(wrongType).toContain("column 'x' from stage 'src': it is float64");
    expect(wrongType).toContain('a bool');
    const [syntax] = await validate('x >> 1');
    expect(syntax).toContain("stage 'keep' (table.filter): in 'x >> 1': unexpected '>' at position 3");
    const [equals] = await validate('id = 1');
    expect(equals).toContain("unexpected '=' at position 3; use '==' to compare");
  });
});
