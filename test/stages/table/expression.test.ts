// The expression language: values checked against plain JS computed independently on the same
// input, null rules, int64 exactness, dates, and the compile-time errors.
import { readFileSync } from 'node:fs';
import {
  Bool, DateDay, Field, Float32, Float64, Int16, Int32, Int64, Int8, makeData, makeVector, RecordBatch, Schema, Struct, tableFromArrays,
  Timestamp, TimeUnit, Uint64, Utf8, vectorFromArray, type Vector,
} from 'apache-arrow';
import { describe, expect, test } from 'vitest';
import { typeName } from '../../../src/arrow/types.ts';
import { functions } from '../../../src/stages/table/lib/expression/functions.ts';
import { compileExpression } from '../../../src/stages/table/lib/expression/index.ts';
import { ColumnTypeError, MissingColumnError, SchemaError } from '../../../src/workflow/errors.ts';

/** A batch from named vectors (all the same length). */
function batchOf(columns: Record<string, Vector>): RecordBatch {
  const fields = Object.entries(columns).map(([name, v]) => new Field(name, v.type, true));
  const length = Object.values(columns)[0]?.length ?? 0;
  const children = Object.values(columns).map((v) => v.data[0]);
  return new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length, children }));
}

/** Compiles against the batch's schema, evaluates, and returns the type name and the rows. */
function run(expression: string, batch: RecordBatch): { type: string; values: unknown[] } {
  const compiled = compileExpression(expression, batch.schema);
  const data = compiled.evaluate(batch);
  expect(data.length).toBe(batch.numRows);
  return { type: typeName(compiled.type), values: [...makeVector(data)] };
}

const values = (expression: string, batch: RecordBatch) => run(expression, batch).values;

/** A deterministic pseudo-random sequence. */
function random(seed: number) {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
}

/** The error thrown by compiling `expression` against `schema`. */
function compileError(expression: string, schema: Schema): Error {
  try {
    compileExpression(expression, schema);
  } catch (error) {
    return error as Error;
  }
  throw new Error(`'${expression}' compiled without error`);
}

// Random floats with nulls (every 7th) and a few special values.
const rows = 1000;
const rand = random(42);
const xs: (number | null)[] = Array.from({ length: rows }, (_, i) => (i % 7 === 3 ? null : (rand() - 0.5) * 200));
const ys: (number | null)[] = Array.from({ length: rows }, (_, i) => (i % 11 === 5 ? null : i % 13 === 0 ? 0 : (rand() - 0.5) * 20));
xs[10] = NaN;
xs[20] = Infinity;
const floats = batchOf({ x: vectorFromArray(xs, new Float64()), y: vectorFromArray(ys, new Float64()) });

/** Applies `f` row by row, with null in giving null out (y counts only if the expression uses it). */
const expected = (f: (x: number, y: number) => number | boolean, usesY = f.length > 1) =>
  xs.map((x, i) => (x === null || (usesY && ys[i] === null) ? null : f(x, ys[i] ?? 0)));

describe('float arithmetic and comparisons', () => {
  test.each([
    ['x * 2 + y', (x: number, y: number) => x * 2 + y],
    ['x - y * y', (x: number, y: number) => x - y * y],
    ['x / y', (x: number, y: number) => x / y],
    ['x % y', (x: number, y: number) => x % y],
    ['(x + 1.5e-6) * -y', (x: number, y: number) => (x + 1.5e-6) * -y],
    ['2 - x', (x: number) => 2 - x],
    ['10 / x', (x: number) => 10 / x],
  ])('%s matches JS', (expression, f) => {
    const { type, values: got } = run(expression, floats);
    expect(type).toBe('float64');
    expect(got).toEqual(expected(f));
  });

  test.each([
    ['x > y', (x: number, y: number) => x > y],
    ['x >= 0.5', (x: number) => x >= 0.5],
    ['0.5 < x', (x: number) => 0.5 < x],
    ['x == y', (x: number, y: number) => x === y],
    ['x != y', (x: number, y: number) => x !== y],
    ['x <= y', (x: number, y: number) => x <= y],
  ])('%s matches JS (NaN compares false except !=)', (expression, f) => {
    const { type, values: got } = run(expression, floats);
    expect(type).toBe('bool');
    expect(got).toEqual(expected(f));
  });

  test('division follows IEEE: x/0 is ±Infinity, 0/0 is NaN, and / of integers is float64', () => {
    const b = batchOf({ a: vectorFromArray([7, -1, 0, 1], new Int32()), b: vectorFromArray([2, 0, 0, 0], new Int32()) });
    expect(run('a / b', b)).toEqual({ type: 'float64', values: [3.5, -Infinity, NaN, Infinity] });
  });

  test('float32 and mixed int/float arithmetic give float64', () => {
    const b = batchOf({ f: vectorFromArray([1.5, 2.25], new Float32()), i: vectorFromArray([3, 4], new Int8()) });
    expect(run('f * i', b)).toEqual({ type: 'float64', values: [4.5, 9] });
    expect(run('i + 0.5', b)).toEqual({ type: 'float64', values: [3.5, 4.5] });
  });

  test('a constant expression is computed once and fills every row', () => {
    expect(run('1 + 2 * 3', floats)).toEqual({ type: 'int64', values: Array(rows).fill(7n) });
    expect(run('(1 + 2) * 3 - 10 % 4', floats).values[0]).toBe(7n);
    expect(run('-2.5e1', floats).values[0]).toBe(-25);
  });
});

describe('integers are exact int64', () => {
  const big = 2n ** 62n;
  const ints = batchOf({
    a: vectorFromArray([big + 1n, -big - 3n, 9007199254740993n, null, 7n], new Int64()),
    b: vectorFromArray([big - 2n, 5n, 2n, 1n, -2n], new Int64()),
    i: vectorFromArray([2147483647, -2147483648, 3, 4, null], new Int32()),
    s: vectorFromArray([32767, -32768, 1, 2, 3], new Int16()),
  });

  test('int64 + - * % near 2^62 keep every digit', () => {
    const a = [big + 1n, -big - 3n, 9007199254740993n, null, 7n];
    const b = [big - 2n, 5n, 2n, 1n, -2n];
    const op = (f: (x: bigint, y: bigint) => bigint) => a.map((x, k) => (x === null ? null : f(x, b[k])));
    expect(run('a + b', ints)).toEqual({ type: 'int64', values: op((x, y) => x + y) });
    expect(values('a - b', ints)).toEqual(op((x, y) => x - y));
    expect(values('a % b', ints)).toEqual(op((x, y) => x % y)); // truncated, like BigInt
    expect(values('a + 1', ints)).toEqual(a.map((x) => (x === null ? null : x + 1n)));
    expect(values('b * 2', ints)).toEqual(b.map((y) => y * 2n));
  });

  test('int32 and int16 arithmetic (computed as doubles where provably exact) matches BigInt', () => {
    const i = [2147483647n, -2147483648n, 3n, 4n, null];
    const s = [32767n, -32768n, 1n, 2n, 3n];
    const op = (f: (x: bigint, y: bigint) => bigint) => i.map((x, k) => (x === null ? null : f(x, s[k])));
    expect(run('i + s', ints)).toEqual({ type: 'int64', values: op((x, y) => x + y) });
    expect(values('i * s', ints)).toEqual(op((x, y) => x * y));
    expect(values('i * s * s', ints)).toEqual(op((x, y) => x * y * y));
    expect(values('s * s * s * s', ints)).toEqual(s.map((y) => y ** 4n));
    // (2^31 - 1)^3 does not fit in int64.
    expect(() => compileExpression('i * i * i', ints.schema).evaluate(ints)).toThrow('integer overflow');
    expect(values('-i', ints)).toEqual(i.map((x) => (x === null ? null : -x)));
    expect(values('i - s * 3', ints)).toEqual(op((x, y) => x - y * 3n));
  });

  test('integer % truncates toward zero, and % 0 is null', () => {
    const b = batchOf({ a: vectorFromArray([-7, 7, -7, 5], new Int32()), b: vectorFromArray([2, -2, 0, 0], new Int32()) });
    expect(values('a % b', b)).toEqual([-1n, 1n, null, null]);
    expect(values('a % 0', b)).toEqual([null, null, null, null]);
    const floatsWithZero = batchOf({ x: vectorFromArray([5.5, -5.5], new Float64()) });
    expect(values('x % 0', floatsWithZero)).toEqual([NaN, NaN]);
    expect(values('x % 2', floatsWithZero)).toEqual([1.5, -1.5]);
  });

  test('a result outside int64 stops evaluation with an overflow error', () => {
    const b = batchOf({ a: vectorFromArray([2n ** 62n, 1n], new Int64()) });
    const compiled = compileExpression('a * 2', b.schema);
    expect(() => compiled.evaluate(b)).toThrow("integer overflow in 'a * 2'");
    expect(() => compileExpression('-a', b.schema).evaluate(batchOf({ a: vectorFromArray([-(2n ** 63n)], new Int64()) }))).toThrow('overflow');
    // Overflow in a null row does not count.
    const withNull = batchOf({ a: vectorFromArray([null, 1n], new Int64()) });
    expect(values('a * 4611686018427387904', withNull)).toEqual([null, 2n ** 62n]);
  });

  test('literals: full int64 range, overflow found at compile time', () => {
    expect(values('-9223372036854775808 + 0 * a', ints)[0]).toBe(-(2n ** 63n));
    expect(values('9223372036854775807', ints)[0]).toBe(2n ** 63n - 1n);
    expect(compileError('9223372036854775808', ints.schema).message).toContain('does not fit in int64');
    expect(compileError('9223372036854775807 + 1', ints.schema).message).toContain('integer overflow');
  });

  test('comparisons of int64 with numbers are exact', () => {
    // 2^62 + 1 as a double is 2^62: a float comparison would say "equal".
    expect(values('a > 4611686018427387904', ints)).toEqual([true, false, false, null, false]);
    expect(values('a == 4611686018427387905', ints)).toEqual([true, false, false, null, false]);
    expect(values('a > 4.611686018427388e18', ints)).toEqual([true, false, false, null, false]);
    expect(values('a != 9007199254740992.0', ints)).toEqual([true, true, true, null, true]);
    expect(values('a > b', ints)).toEqual([true, false, true, null, true]);
    expect(values('i < a', ints)).toEqual([true, false, true, null, null]);
  });

  test('uint64 values beyond int64 compare exactly and overflow in arithmetic', () => {
    const b = batchOf({ u: vectorFromArray([2n ** 64n - 1n, 5n], new Uint64()) });
    expect(values('u > 9223372036854775807', b)).toEqual([true, false]);
    expect(() => compileExpression('u + 1', b.schema).evaluate(b)).toThrow('overflow');
    const small = batchOf({ u: vectorFromArray([3n, 5n], new Uint64()) });
    expect(run('u * 2', small)).toEqual({ type: 'int64', values: [6n, 10n] });
  });
});

describe('nulls and three-valued logic', () => {
  const T = true;
  const F = false;
  const N = null;
  const p = [T, T, T, F, F, F, N, N, N];
  const q = [T, F, N, T, F, N, T, F, N];
  const logic = batchOf({ p: vectorFromArray(p, new Bool()), q: vectorFromArray(q, new Bool()) });

  test('and / or / not follow SQL', () => {
    expect(values('p and q', logic)).toEqual([T, F, N, F, F, F, N, F, N]);
    expect(values('p or q', logic)).toEqual([T, T, T, T, F, N, T, N, N]);
    expect(values('not p', logic)).toEqual([F, F, F, T, T, T, N, N, N]);
    expect(values('p AND NOT q', logic)).toEqual([F, T, N, F, F, F, F, N, N]);
  });

  test('the null literal: logic stays three-valued, everything else is null', () => {
    expect(values('p and null', logic)).toEqual([N, N, N, F, F, F, N, N, N]);
    expect(values('p or null', logic)).toEqual([T, T, T, N, N, N, N, N, N]);
    const b = batchOf({ x: vectorFromArray([1.5, null], new Float64()) });
    expect(run('x + null', b)).toEqual({ type: 'float64', values: [null, null] });
    expect(run('null', b)).toEqual({ type: 'null', values: [null, null] });
    expect(values('sqrt(null)', b)).toEqual([null, null]);
  });

  test('bool columns compare with == and !=', () => {
    expect(values('p == q', logic)).toEqual([T, F, N, F, T, N, N, N, N]);
    expect(values('p != true', logic)).toEqual([F, F, F, T, T, T, N, N, N]);
    expect(compileError('p < q', logic.schema).message).toContain('== or !=');
  });

  test('is_null, coalesce and if look at nulls themselves', () => {
    const b = batchOf({
      x: vectorFromArray([1.5, null, null, 4], new Float64()),
      y: vectorFromArray([10, 20, null, null], new Int32()),
      c: vectorFromArray([true, null, false, true], new Bool()),
    });
    expect(values('is_null(x)', b)).toEqual([false, true, true, false]);
    expect(run('coalesce(x, y)', b)).toEqual({ type: 'float64', values: [1.5, 20, null, 4] });
    expect(run('coalesce(y, 0)', b)).toEqual({ type: 'int64', values: [10n, 20n, 0n, 0n] });
    expect(run('coalesce(x, y, -1)', b).values).toEqual([1.5, 20, -1, 4]);
    // A null condition takes the else branch; the branch's own nulls stay null.
    expect(run('if(c, x, y)', b)).toEqual({ type: 'float64', values: [1.5, 20, null, 4] });
    expect(values("if(c, 'yes', 'no')", b)).toEqual(['yes', 'no', 'no', 'yes']);
    expect(values('if(null, 1, 2)', b)).toEqual([2n, 2n, 2n, 2n]);
  });
});

describe('strings', () => {
  const words = ['apple', 'Banana', null, 'éclair', '\uFF5E', '😀', '', 'straße'];
  const b = batchOf({ s: vectorFromArray(words, new Utf8()), t: vectorFromArray(['apple', 'banana', 'x', 'zz', '😀', '\uFF5E', '', 'STRASSE'], new Utf8()) });
  /** Code-point order (what UTF-8 byte order gives), not JS's UTF-16 order. */
  const cmp = (x: string, y: string) => {
    const a = [...x].map((c) => c.codePointAt(0)!);
    const c = [...y].map((ch) => ch.codePointAt(0)!);
    for (let k = 0; k < Math.min(a.length, c.length); k++) if (a[k] !== c[k]) return a[k] - c[k];
    return a.length - c.length;
  };

  test('comparisons use code-point order', () => {
    const t = ['apple', 'banana', 'x', 'zz', '😀', '\uFF5E', '', 'STRASSE'];
    expect(values('s < t', b)).toEqual(words.map((w, i) => (w === null ? null : cmp(w, t[i]) < 0)));
    expect(values('s >= t', b)).toEqual(words.map((w, i) => (w === null ? null : cmp(w, t[i]) >= 0)));
    expect(values('s == t', b)).toEqual(words.map((w, i) => (w === null ? null : w === t[i])));
    // U+FF5E sorts before U+1F600 by code point, though not by UTF-16 unit.
    expect(values("s < '😀'", b)[4]).toBe(true);
    expect(values("s > 'B'", b)).toEqual(words.map((w) => (w === null ? null : cmp(w, 'B') > 0)));
  });

  test('lower, upper and length follow Unicode', () => {
    expect(run('lower(s)', b)).toEqual({ type: 'utf8', values: words.map((w) => w?.toLowerCase() ?? null) });
    expect(values('upper(s)', b)).toEqual(words.map((w) => w?.toUpperCase() ?? null));
    expect(run('length(s)', b)).toEqual({ type: 'int32', values: words.map((w) => (w === null ? null : [...w].length)) });
    expect(values("upper(s) == t", b)[7]).toBe(true); // 'straße' -> 'STRASSE'
    const ascii = batchOf({ s: vectorFromArray(['MiXeD 42', null, 'abc'], new Utf8()) });
    expect(values('lower(s)', ascii)).toEqual(['mixed 42', null, 'abc']);
    expect(values('upper(s)', ascii)).toEqual(['MIXED 42', null, 'ABC']);
  });

  test('literals with escapes and both quote styles', () => {
    const q = batchOf({ s: vectorFromArray(["it's", 'say "hi"', 'a\\b', 'tab\there'], new Utf8()) });
    expect(values("s == 'it\\'s'", q)).toEqual([true, false, false, false]);
    expect(values('s == "say \\"hi\\""', q)).toEqual([false, true, false, false]);
    expect(values("s == 'a\\\\b'", q)).toEqual([false, false, true, false]);
    expect(values("s == 'tab\\there'", q)).toEqual([false, false, false, true]);
  });

  test('dictionary-encoded strings work like utf8', () => {
    const table = tableFromArrays({ s: ['b', 'a', 'b', 'c'] });
    const batch = table.batches[0];
    expect(batch.schema.fields[0].type.toString()).toContain('Dictionary');
    expect(values("s == 'b'", batch)).toEqual([true, false, true, false]);
    expect(run('upper(s)', batch)).toEqual({ type: 'utf8', values: ['B', 'A', 'B', 'C'] });
  });
});

describe('timestamps and dates', () => {
  const times = ['2019-12-31T23:59:59.999Z', '2020-01-01T00:00:00Z', '2021-06-15T13:45:30.250Z', '1969-12-31T23:00:00Z', null];
  const ms = times.map((t) => (t === null ? null : Date.parse(t)));
  const b = batchOf({
    t: vectorFromArray(ms.map((m) => (m === null ? null : new Date(m))), new Timestamp(TimeUnit.MILLISECOND, 'UTC')),
    // The same instants in seconds (truncated) and nanoseconds.
    s: makeVector(makeData({ type: new Timestamp(TimeUnit.SECOND, 'UTC'), length: 5, nullCount: 0, data: BigInt64Array.from(ms.map((m) => BigInt(Math.floor((m ?? 0) / 1000)))) })),
    ns: makeVector(makeData({ type: new Timestamp(TimeUnit.NANOSECOND), length: 5, nullCount: 0, data: BigInt64Array.from(ms.map((m) => BigInt(m ?? 0) * 1_000_000n)) })),
    d: vectorFromArray([new Date('2020-01-01'), new Date('2020-02-29'), new Date('1969-12-31'), null, new Date('2024-12-31')], new DateDay()),
  });

  test('compared with ISO 8601 literals parsed at compile time', () => {
    const at = (text: string) => Date.parse(text);
    expect(values("t >= '2020-01-01'", b)).toEqual(ms.map((m) => (m === null ? null : m >= at('2020-01-01T00:00:00Z'))));
    expect(values("t < '2020-01-01 00:00:00'", b)).toEqual(ms.map((m) => (m === null ? null : m < at('2020-01-01T00:00:00Z'))));
    expect(values("t == '2021-06-15T15:45:30.25+02:00'", b)).toEqual([false, false, true, false, null]);
    expect(values("'2020-01-01' > t", b)).toEqual(ms.map((m) => (m === null ? null : m < at('2020-01-01T00:00:00Z'))));
    expect(values("d >= '2020-02-29'", b)).toEqual([false, true, false, null, true]);
  });

  test('a literal finer than the column unit still compares exactly', () => {
    // s holds whole seconds: 2020-01-01T00:00:00 is below ...00.5, and never equal to it.
    expect(values("s < '2020-01-01T00:00:00.5'", b)).toEqual([true, true, false, true, true]);
    expect(values("s == '2020-01-01T00:00:00.5'", b)).toEqual([false, false, false, false, false]);
    expect(values("s != '2020-01-01T00:00:00.5'", b)).toEqual([true, true, true, true, true]);
    expect(values("s >= '2020-01-01T00:00:00.5'", b)).toEqual([false, false, true, false, false]);
    expect(values("d < '2020-02-29T12:00'", b)).toEqual([true, true, true, null, false]);
  });

  test('timestamps of different units, and dates, compare exactly', () => {
    // t has milliseconds that s dropped: t > s where there were any.
    expect(values('t > s', b)).toEqual([true, false, true, false, null]);
    expect(values('t == ns', b)).toEqual([true, true, true, true, null]);
    expect(values('ns >= d', b)).toEqual([false, false, true, null, false]);
    expect(values('d < t', b)).toEqual([false, false, true, null, null]);
  });

  test('year, month, day and hour use the UTC calendar', () => {
    const parts = (f: (d: Date) => number) => ms.map((m) => (m === null ? null : f(new Date(m))));
    expect(run('year(t)', b)).toEqual({ type: 'int32', values: parts((d) => d.getUTCFullYear()) });
    expect(values('month(t)', b)).toEqual(parts((d) => d.getUTCMonth() + 1));
    expect(values('day(t)', b)).toEqual(parts((d) => d.getUTCDate()));
    expect(values('hour(t)', b)).toEqual(parts((d) => d.getUTCHours()));
    expect(values('hour(ns)', b)).toEqual([23, 0, 13, 23, 0]);
    expect(values('year(d)', b)).toEqual([2020, 2020, 1969, null, 2024]);
    expect(values('month(d) * 100 + day(d)', b)).toEqual([101n, 229n, 1231n, null, 1231n]);
  });

  test('far dates in nanoseconds and the calendar over four centuries', () => {
    const days = Array.from({ length: 400 }, (_, k) => -200_000 + k * 1013);
    const dates = batchOf({ d: makeVector(makeData({ type: new DateDay(), length: days.length, nullCount: 0, data: Int32Array.from(days) })) });
    const js = days.map((n) => new Date(n * 86_400_000));
    expect(values('year(d)', dates)).toEqual(js.map((d) => d.getUTCFullYear()));
    expect(values('month(d)', dates)).toEqual(js.map((d) => d.getUTCMonth() + 1));
    expect(values('day(d)', dates)).toEqual(js.map((d) => d.getUTCDate()));
    const late = BigInt(Date.parse('2200-03-01T05:00:00Z')) * 1_000_000n + 1n;
    const ns = batchOf({ t: makeVector(makeData({ type: new Timestamp(TimeUnit.NANOSECOND), length: 1, nullCount: 0, data: BigInt64Array.of(late) })) });
    expect(values('year(t) * 10000 + month(t) * 100 + day(t)', ns)).toEqual([22000301n]);
    expect(values('hour(t)', ns)).toEqual([5]);
    expect(values("t > '2200-03-01T05:00:00Z'", ns)).toEqual([true]);
  });

  test('bad literals and non-literal strings are compile errors', () => {
    const e = compileError("t > '2020-13-01'", b.schema);
    expect(e).toBeInstanceOf(SchemaError);
    expect(e.message).toContain("'2020-13-01' is not a date or time at position 4");
    expect(compileError("d == '2021-02-29'", b.schema).message).toContain('not a date or time');
    const withText = new Schema([...b.schema.fields, new Field('text', new Utf8(), true)]);
    expect(compileError('t > text', withText).message).toContain("cannot compare a timestamp or date with column 'text'");
  });
});

describe('functions', () => {
  const b = batchOf({
    x: vectorFromArray([2.5, -2.5, 0.125, null, 16, -0.4], new Float64()),
    i: vectorFromArray([15, -15, 14, 3, null, 0], new Int32()),
  });
  const xs6 = [2.5, -2.5, 0.125, null, 16, -0.4];
  const map = (f: (x: number) => number) => xs6.map((x) => (x === null ? null : f(x)));

  test('math on floats matches Math', () => {
    expect(values('abs(x)', b)).toEqual(map(Math.abs));
    expect(values('sqrt(x)', b)).toEqual(map(Math.sqrt));
    expect(values('log(x)', b)).toEqual(map(Math.log));
    expect(values('log10(x)', b)).toEqual(map(Math.log10));
    expect(values('exp(x)', b)).toEqual(map(Math.exp));
    expect(values('floor(x)', b)).toEqual(map(Math.floor));
    expect(values('ceil(x)', b)).toEqual(map(Math.ceil));
    expect(values('pow(x, 2)', b)).toEqual(map((x) => x * x));
    expect(values('pow(2, x)', b)).toEqual(map((x) => 2 ** x));
    expect(values('pow(x, x)', b)).toEqual(map((x) => x ** x));
  });

  test('round goes half away from zero; integers stay exact', () => {
    expect(run('round(x)', b)).toEqual({ type: 'float64', values: [3, -3, 0, null, 16, -0] });
    expect(values('round(x, 2)', b)).toEqual([2.5, -2.5, 0.13, null, 16, -0.4]);
    expect(values('round(x, -1)', b)).toEqual([0, -0, 0, null, 20, -0]);
    expect(run('round(i, -1)', b)).toEqual({ type: 'int64', values: [20n, -20n, 10n, 0n, null, 0n] });
    expect(values('round(i)', b)).toEqual([15n, -15n, 14n, 3n, null, 0n]);
    expect(compileError('round(x, i)', b.schema).message).toContain('integer literal');
  });

  test('integer abs, floor, ceil stay int64', () => {
    expect(run('abs(i)', b)).toEqual({ type: 'int64', values: [15n, 15n, 14n, 3n, null, 0n] });
    expect(run('floor(i)', b)).toEqual({ type: 'int64', values: [15n, -15n, 14n, 3n, null, 0n] });
  });

  test('min and max row by row, null when any argument is null', () => {
    expect(run('min(x, i)', b)).toEqual({ type: 'float64', values: [2.5, -15, 0.125, null, null, -0.4] });
    expect(run('max(i, 0, -3)', b)).toEqual({ type: 'int64', values: [15n, 0n, 14n, 3n, null, 0n] });
    expect(values('max(x, 1)', b)).toEqual(map((x) => Math.max(x, 1)));
  });

  test('is_nan', () => {
    const n = batchOf({ x: vectorFromArray([NaN, 1, null], new Float64()), i: vectorFromArray([1, 2, 3], new Int32()) });
    expect(values('is_nan(x)', n)).toEqual([true, false, null]);
    expect(values('is_nan(i)', n)).toEqual([false, false, false]);
    expect(values('is_nan(x / 0 * 0)', n)).toEqual([true, true, null]);
  });

  test('names are case-insensitive; arity and unknown names are errors', () => {
    expect(values('ABS(i)', b)[1]).toBe(15n);
    const unknown = compileError('foo(x)', b.schema);
    expect(unknown).toBeInstanceOf(SchemaError);
    expect(unknown.message).toContain("unknown function 'foo' at position 0");
    for (const name of ['abs', 'coalesce', 'if', 'year', 'log10']) expect(unknown.message).toContain(name);
    expect(compileError('pow(x)', b.schema).message).toContain('pow(x, y) takes 2 arguments, but got 1');
    expect(compileError('min(x)', b.schema).message).toContain('at least 2');
  });

  test('every function is documented in README.md with its example', () => {
    const readme = readFileSync(new URL('../../../src/stages/table/lib/expression/README.md', import.meta.url), 'utf8');
    for (const fn of functions.values()) {
      expect(readme).toContain(`| \`${fn.signature}\` |`);
      expect(readme).toContain(`\`${fn.example}\``);
    }
  });
});

describe('names, syntax and errors', () => {
  const b = batchOf({
    'Adj Close': vectorFromArray([10, 20], new Float64()),
    close: vectorFromArray([11, 19], new Float64()),
    name: vectorFromArray(['a', 'b'], new Utf8()),
    flag: vectorFromArray([true, false], new Bool()),
  });
  const schema = b.schema;

  test('backtick-quoted names, keywords in any case, precedence', () => {
    expect(values('`Adj Close` < close', b)).toEqual([true, false]);
    expect(values('close > 15 OR `Adj Close` > 15 And flag', b)).toEqual([false, true]);
    expect(values('not flag or true', b)).toEqual([true, true]);
    expect(values('-close * 2 + 1', b)).toEqual([-21, -37]);
    expect(values('2 * (close + 1)', b)).toEqual([24, 40]);
    expect(values('close - 1 - 1', b)).toEqual([9, 17]);
    expect(values('close / 2 / 2', b)).toEqual([2.75, 4.75]);
  });

  test('a bare column passes through with its type', () => {
    const compiled = compileExpression('name', schema);
    expect(compiled.evaluate(b)).toBe(b.data.children[2]);
    expect(typeName(compiled.type)).toBe('utf8');
  });

  test('an unknown column is a MissingColumnError listing the columns', () => {
    const e = compileError('volume > 0', schema) as MissingColumnError;
    expect(e).toBeInstanceOf(MissingColumnError);
    expect(e.column).toBe('volume');
    expect(e.available).toEqual(['Adj Close', 'close', 'name', 'flag']);
  });

  test('a column of the wrong type is a ColumnTypeError naming it and both types', () => {
    const cases: [string, string, string][] = [
      ['sqrt(name)', 'a number', 'utf8'],
      ['name + 1', 'a number', 'utf8'],
      ['name > 5', 'a number', 'utf8'],
      ["close == 'x'", 'a string, timestamp or date', 'float64'],
      ['close and flag', 'a bool', 'float64'],
      ['not close', 'a bool', 'float64'],
      ['lower(close)', 'a string', 'float64'],
      ['year(close)', 'a timestamp or date', 'float64'],
      ['if(close, 1, 2)', 'a bool', 'float64'],
    ];
    for (const [expression, wanted, actual] of cases) {
      const e = compileError(expression, schema) as ColumnTypeError;
      expect(e, expression).toBeInstanceOf(ColumnTypeError);
      expect(e.expected, expression).toBe(wanted);
      expect(e.actual, expression).toBe(actual);
      expect(e.message).toContain(`column '${e.column}' is ${actual}, expected ${wanted}`);
    }
    expect((compileError('sqrt(name)', schema) as ColumnTypeError).column).toBe('name');
  });

  test('other problems are SchemaErrors quoting the expression and the position', () => {
    const cases: [string, string][] = [
      ['close >> 1', "in 'close >> 1': unexpected '>' at position 7"],
      ['close = 1', "unexpected '=' at position 6; use '=='"],
      ['close && flag', "use 'and'"],
      ['(close + 1', "unexpected end of expression at position 10; expected ')'"],
      ['close 1', "unexpected '1' at position 6"],
      ["name == 'abc", 'unterminated string'],
      ["'a\\q'", "unknown escape '\\q'"],
      ['`Adj Close', 'unterminated'],
      ['close > 1 > 0', 'comparisons do not chain'],
      ['close == null', 'use is_null(x)'],
      ['2x', "malformed number '2x'"],
      ['', 'empty'],
      ["sqrt(lower(name))", "sqrt() needs a number, but 'lower(name)' is utf8 at position 5"],
      ["'a' + 1", "'+' needs a number, but 'a' is utf8 at position 0"],
      ['name > close', "cannot compare column 'name' (utf8) with column 'close' (float64) at position 5"],
      ["if(flag, 1, 'x')", "if() needs values of one type"],
      ['close + (name', "expected ')'"],
    ];
    for (const [expression, message] of cases) {
      const e = compileError(expression, schema);
      expect(e, expression).toBeInstanceOf(SchemaError);
      expect(e.message, expression).toContain(message);
    }
  });
});

describe('batches', () => {
  test('sliced batches (offsets into validity, bits and strings) evaluate correctly', () => {
    const full = batchOf({
      x: vectorFromArray([1, null, 3, 4, null, 6, 7, 8, 9, 10, 11], new Float64()),
      f: vectorFromArray([true, false, null, true, true, false, null, false, true, true, false], new Bool()),
      s: vectorFromArray(['a', 'bb', null, 'ddd', 'e', 'ff', 'g', null, 'i', 'jj', 'k'], new Utf8()),
    });
    const part = full.slice(3, 10);
    expect(values('x * 10', part)).toEqual([40, null, 60, 70, 80, 90, 100]);
    expect(values('f or x > 8', part)).toEqual([true, true, false, null, false, true, true]);
    expect(values('f and x > 4', part)).toEqual([false, null, false, null, false, true, true]);
    expect(values('length(s) + 0', part)).toEqual([3n, 1n, 2n, 1n, null, 1n, 2n]);
    expect(values('upper(s)', part)).toEqual(['DDD', 'E', 'FF', 'G', null, 'I', 'JJ']);
    expect(values('coalesce(s, "?")', part)).toEqual(['ddd', 'e', 'ff', 'g', '?', 'i', 'jj']);
  });

  test('the same compiled expression serves many batches; results do not share buffers with inputs', () => {
    const schema = new Schema([new Field('x', new Float64(), true)]);
    const compiled = compileExpression('x * 2 + 1', schema);
    for (const data of [[1, 2], [3], [4, 5, 6]]) {
      const batch = batchOf({ x: vectorFromArray(data, new Float64()) });
      const before = [...(batch.data.children[0].values as Float64Array)];
      expect([...makeVector(compiled.evaluate(batch))]).toEqual(data.map((v) => v * 2 + 1));
      expect([...(batch.data.children[0].values as Float64Array)]).toEqual(before);
    }
  });

  test('evaluation is vectorised over large batches (and agrees with JS)', () => {
    const n = 200_000;
    const r = random(7);
    const x = Float64Array.from({ length: n }, () => r());
    const y = Float64Array.from({ length: n }, () => r());
    const batch = batchOf({
      x: makeVector(makeData({ type: new Float64(), length: n, nullCount: 0, data: x })),
      y: makeVector(makeData({ type: new Float64(), length: n, nullCount: 0, data: y })),
    });
    const out = compileExpression('x * 2 + y', batch.schema).evaluate(batch).values as Float64Array;
    for (let i = 0; i < n; i += 997) expect(out[i]).toBe(x[i] * 2 + y[i]);
    const mask = compileExpression('x > 0.5 and y < 0.3', batch.schema).mask(batch.data.children, n);
    let kept = 0;
    for (let i = 0; i < n; i++) {
      expect(mask[i]).toBe(x[i] > 0.5 && y[i] < 0.3 ? 1 : 0);
      kept += mask[i];
    }
    expect(kept).toBeGreaterThan(n * 0.1);
  });
});
