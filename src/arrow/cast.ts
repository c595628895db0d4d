// Casts a column to another type, safely: a value the target cannot hold (overflow, a lost
// fraction, text that does not parse) is an error naming the column, the row and the value,
// never a silent wrap or NaN. Nulls stay null. 64-bit values are handled as exact JS numbers while
// they fit in 53 bits and as BigInt beyond (rare), so there is no BigInt per row on the usual path.
import { Buffer, isUtf8 } from 'node:buffer';
import { Type, type Data, type DataType, type Timestamp } from 'apache-arrow';
import { formatDate, formatTime, formatTimestamp, nanosPerTick, parseDate, parseTimestamp } from './iso-time.ts';
import { nullData } from './nulls.ts';
import { sameType, typeName } from './types.ts';
import { boolBytes, bytesColumn, bytesOf, decodeDictionary, fixedColumn, halves, validBytes, valueType } from './values.ts';

type Category = 'int' | 'float' | 'bool' | 'string' | 'binary' | 'timestamp' | 'date' | 'time' | 'duration';

function categoryOf(type: DataType): Category | undefined {
  switch (type.typeId) {
    case Type.Int: return 'int';
    case Type.Float: return (type as unknown as { precision: number }).precision === 0 ? undefined : 'float'; // no float16
    case Type.Bool: return 'bool';
    case Type.Utf8:
    case Type.LargeUtf8: return 'string';
    case Type.Binary:
    case Type.LargeBinary: return 'binary';
    case Type.Timestamp: return 'timestamp';
    case Type.Date: return 'date';
    case Type.Time: return 'time';
    case Type.Duration: return 'duration';
    default: return undefined;
  }
}

const castable: Record<Category, Category[]> = {
  int: ['int', 'float', 'bool', 'timestamp', 'date', 'string'],
  float: ['int', 'float', 'string'],
  bool: ['int', 'bool', 'string'],
  string: ['int', 'float', 'bool', 'timestamp', 'date', 'string', 'binary'],
  binary: ['string', 'binary'],
  timestamp: ['timestamp', 'date', 'int', 'string'],
  date: ['timestamp', 'date', 'int', 'string'],
  time: ['string'],
  duration: ['string'],
};

/** Whether `castData` can turn `from` (a dictionary: its values) into `to`. */
export function canCast(from: DataType, to: DataType): boolean {
  if (sameType(from, to) || from.typeId === Type.Null) return true; // a column of nulls casts to anything
  const a = categoryOf(valueType(from));
  const b = categoryOf(to);
  return !!a && !!b && castable[a].includes(b);
}

/** A value that cannot be cast; the message names the column, the row and the value. */
export class CastError extends Error {}

const TWO32 = 4294967296;

/** Reads row i of numeric, bool or temporal data as a number; exact unless `big` is needed. */
interface NumberSource {
  num(i: number): number;
  /** Whether num(i) is exact (false only for 64-bit values beyond 2^53). */
  exact(i: number): boolean;
  big(i: number): bigint;
}

function numberSource(data: Data): NumberSource {
  const type = data.type as DataType;
  if (type.typeId === Type.Bool) {
    const v = boolBytes(data);
    return { num: (i) => v[i], exact: () => true, big: (i) => BigInt(v[i]) };
  }
  if (type.ArrayType === BigInt64Array || type.ArrayType === BigUint64Array) {
    const h = halves(data);
    const big = data.values as BigInt64Array | BigUint64Array;
    if (type.ArrayType === BigUint64Array) {
      return { num: (i) => (h[2 * i + 1] >>> 0) * TWO32 + (h[2 * i] >>> 0), exact: (i) => h[2 * i + 1] >>> 0 < 2 ** 21, big: (i) => big[i] };
    }
    return {
      num: (i) => h[2 * i + 1] * TWO32 + (h[2 * i] >>> 0),
      exact: (i) => h[2 * i + 1] >= -(2 ** 21) && h[2 * i + 1] < 2 ** 21,
      big: (i) => big[i],
    };
  }
  const v = data.values as Float64Array;
  return { num: (i) => v[i], exact: () => true, big: (i) => BigInt(v[i]) };
}

/** Writes integers to data of an integer or temporal type, checking the range. */
interface IntTarget {
  /** Sets row i to integer x (a number: any integer; a bigint: any); false if out of range. */
  set(i: number, x: number | bigint): boolean;
  values: ArrayBufferView;
}

function intTarget(type: DataType, n: number): IntTarget {
  const Ctor = type.ArrayType as new (n: number) => ArrayBufferView;
  const values = new Ctor(n);
  if (values instanceof BigInt64Array || values instanceof BigUint64Array) {
    const h = new Int32Array(values.buffer);
    const unsigned = values instanceof BigUint64Array;
    const [lo, hi] = unsigned ? [0n, 2n ** 64n - 1n] : [-(2n ** 63n), 2n ** 63n - 1n];
    return {
      values,
      set(i, x) {
        if (typeof x === 'number' && Number.isSafeInteger(x)) {
          if (unsigned && x < 0) return false;
          const high = Math.floor(x / TWO32);
          h[2 * i] = x - high * TWO32;
          h[2 * i + 1] = high;
          return true;
        }
        const b = typeof x === 'bigint' ? x : BigInt(x);
        if (b < lo || b > hi) return false;
        values[i] = b;
        return true;
      },
    };
  }
  // The range of the storage array (ints, date32), e.g. Int8Array: -128..127.
  const bits = 8 * (values as Int32Array).BYTES_PER_ELEMENT;
  const signed = !(values instanceof Uint8Array || values instanceof Uint16Array || values instanceof Uint32Array);
  const min = signed ? -(2 ** (bits - 1)) : 0;
  const max = signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
  const out = values as Int32Array;
  return {
    values,
    set(i, x) {
      if (typeof x === 'bigint') return false; // beyond 2^53: no 32-bit type holds it
      if (x < min || x > max) return false;
      out[i] = x;
      return true;
    },
  };
}

/** Nanoseconds per unit of a temporal or integer type (integers count the target's units). */
function nanosPer(type: DataType): number {
  if (type.typeId === Type.Timestamp) return nanosPerTick[(type as Timestamp).unit];
  if (type.typeId === Type.Date) return (type as unknown as { unit: number }).unit === 0 ? 86400e9 : 1e6;
  return 0;
}

/**
 * `data` cast to `to`; `column` names it in errors. Throws CastError for a value the target cannot
 * hold and Error for a cast `canCast` rejects.
 */
export function castData(data: Data, to: DataType, column: string): Data {
  const from = data.type as DataType;
  if (sameType(from, to)) return data;
  if (!canCast(from, to)) throw new Error(`cannot cast column '${column}' from ${typeName(from)} to ${typeName(to)}`);
  if (from.typeId === Type.Null) return nullData(to, data.length);
  const source = decodeDictionary(data);
  const a = categoryOf(source.type)!;
  const b = categoryOf(to)!;
  const n = source.length;
  const valid = validBytes(source);
  const fail = (i: number, value: unknown, why: string): never => {
    const shown = typeof value === 'string' ? `'${value}'` : String(value);
    throw new CastError(`cannot cast column '${column}' to ${typeName(to)}: row ${i} of the batch, value ${shown}, ${why}`);
  };

  if (b === 'string') return fixedWidthText(source, to, valid, column);
  if (a === 'string' || a === 'binary') {
    if (b === 'binary') return bytesColumn(to, bytesOf(source).offsets, bytesOf(source).bytes, valid, n);
    return parseText(source, to, b, valid, fail);
  }

  // Same-instant temporal changes that only change metadata (a time zone).
  if (a === 'timestamp' && b === 'timestamp' && nanosPer(source.type) === nanosPer(to)) return source.clone(to as never);

  if (b === 'bool') {
    const src = numberSource(source);
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) if ((!valid || valid[i]) && (src.exact(i) ? src.num(i) !== 0 : src.big(i) !== 0n)) out[i] = 1;
    return fixedColumn(to, out, valid, n);
  }
  if (b === 'float') return toFloat(source, to, a, valid, fail);

  // Integer and temporal targets: integers scaled by the ratio of units (1 for plain integers).
  const src = numberSource(source);
  const target = intTarget(to, n);
  const fromNanos = nanosPer(source.type);
  const toNanos = nanosPer(to);
  const [times, divide] = fromNanos && toNanos
    ? fromNanos >= toNanos ? [fromNanos / toNanos, 1] : [1, toNanos / fromNanos]
    : [1, 1];
  // Finer to coarser loses the remainder: allowed (floored) only from a timestamp to a date.
  const truncates = b === 'date';
  for (let i = 0; i < n; i++) {
    if (valid && !valid[i]) continue;
    let x: number | bigint = src.num(i);
    if (a === 'float' && !Number.isInteger(x)) fail(i, x, Number.isFinite(x) ? 'which has a fraction' : 'which is not a finite number');
    if (!src.exact(i) || times !== 1 && Math.abs(x as number) * times > Number.MAX_SAFE_INTEGER) {
      // Exact BigInt arithmetic, rare: 64-bit values beyond 2^53.
      let big = src.exact(i) && a === 'float' ? BigInt(x as number) : src.big(i);
      if (divide !== 1) {
        const d = BigInt(divide);
        let r = big % d;
        if (r !== 0n && !truncates) fail(i, src.big(i), `which ${typeName(to)} cannot hold without losing precision`);
        if (r < 0n) r += d;
        big = (big - r) / d;
      }
      x = big * BigInt(times);
    } else {
      if (divide !== 1) {
        let r = (x as number) % divide;
        if (r !== 0 && !truncates) fail(i, x, `which ${typeName(to)} cannot hold without losing precision`);
        if (r < 0) r += divide;
        x = ((x as number) - r) / divide;
      }
      x = (x as number) * times;
    }
    if (!target.set(i, x)) fail(i, src.exact(i) ? src.num(i) : src.big(i), `which does not fit in ${typeName(to)}`);
  }
  return fixedColumn(to, target.values, valid, n);
}

function toFloat(source: Data, to: DataType, from: Category, valid: Uint8Array | null, fail: (i: number, v: unknown, why: string) => never): Data {
  const n = source.length;
  const single = to.ArrayType === Float32Array;
  const out = single ? new Float32Array(n) : new Float64Array(n);
  const src = numberSource(source);
  for (let i = 0; i < n; i++) {
    if (valid && !valid[i]) continue;
    let x = src.num(i);
    if (!src.exact(i)) {
      x = Number(src.big(i));
      if (BigInt(x) !== src.big(i)) fail(i, src.big(i), `which ${typeName(to)} cannot represent exactly`);
    }
    if (single) {
      const y = Math.fround(x);
      if (from !== 'float' && y !== x) fail(i, src.exact(i) ? x : src.big(i), 'which float32 cannot represent exactly');
      if (!Number.isFinite(y) && Number.isFinite(x)) fail(i, x, 'which overflows float32');
    }
    out[i] = x;
  }
  return fixedColumn(to, out, valid, n);
}

const boolWords: Record<string, number> = { true: 1, t: 1, yes: 1, y: 1, '1': 1, false: 0, f: 0, no: 0, n: 0, '0': 0 };
const integerText = /^\s*[+-]?\d+\s*$/;
const floatText = /^\s*[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|nan|inf|infinity)\s*$/i;

function parseText(source: Data, to: DataType, b: Category, valid: Uint8Array | null, fail: (i: number, v: unknown, why: string) => never): Data {
  const n = source.length;
  const { offsets, bytes } = bytesOf(source);
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = (i: number) => buffer.toString('utf8', offsets[i], offsets[i + 1]);
  const name = typeName(to);
  if (b === 'bool') {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      if (valid && !valid[i]) continue;
      const word = boolWords[text(i).trim().toLowerCase()];
      if (word === undefined) fail(i, text(i), 'which is not a boolean (true/false, t/f, yes/no, 1/0)');
      out[i] = word;
    }
    return fixedColumn(to, out, valid, n);
  }
  if (b === 'float') {
    const out = to.ArrayType === Float32Array ? new Float32Array(n) : new Float64Array(n);
    for (let i = 0; i < n; i++) {
      if (valid && !valid[i]) continue;
      const t = text(i);
      if (!floatText.test(t)) fail(i, t, 'which is not a number');
      const word = t.trim().toLowerCase().replace(/^[+-]/, '');
      const x = word === 'nan' ? NaN : word === 'inf' || word === 'infinity' ? (t.trim()[0] === '-' ? -Infinity : Infinity) : Number(t);
      if (out instanceof Float32Array && Number.isFinite(x) && !Number.isFinite(Math.fround(x))) fail(i, t, 'which overflows float32');
      out[i] = x;
    }
    return fixedColumn(to, out, valid, n);
  }
  const target = intTarget(to, n);
  for (let i = 0; i < n; i++) {
    if (valid && !valid[i]) continue;
    const t = text(i);
    let x: number | bigint;
    if (b === 'int') {
      if (!integerText.test(t)) fail(i, t, 'which is not an integer');
      const trimmed = t.trim();
      x = trimmed.length <= 15 ? Number(trimmed) : BigInt(trimmed);
    } else {
      try {
        x = b === 'date' ? dateValue(to, parseDate(t)) : parseTimestamp(t, (to as Timestamp).unit);
      } catch (error) {
        return fail(i, t, `which ${(error as Error).message}`);
      }
    }
    if (!target.set(i, x)) fail(i, t, `which does not fit in ${name}`);
  }
  return fixedColumn(to, target.values, valid, n);
}

const dateValue = (to: DataType, days: number) => ((to as unknown as { unit: number }).unit === 0 ? days : days * 86400000);

/** Values as text: numbers as JS prints them, 64-bit integers exactly, times in ISO 8601. */
function fixedWidthText(source: Data, to: DataType, valid: Uint8Array | null, column: string): Data {
  const n = source.length;
  const a = categoryOf(source.type)!;
  if (a === 'string' || a === 'binary') {
    const { offsets, bytes } = bytesOf(source);
    if (a === 'binary') {
      for (let i = 0; i < n; i++) {
        if ((!valid || valid[i]) && !isUtf8(bytes.subarray(offsets[i], offsets[i + 1]))) {
          throw new CastError(`cannot cast column '${column}' to ${typeName(to)}: row ${i} of the batch is not valid UTF-8`);
        }
      }
    }
    return bytesColumn(to, offsets, bytes, valid, n);
  }
  const src = numberSource(source);
  const type = source.type as DataType;
  const format: (i: number) => string = (() => {
    switch (a) {
      case 'bool': return (i: number) => (src.num(i) ? 'true' : 'false');
      case 'float':
        return type.ArrayType === Float32Array ? (i: number) => shortestFloat32(src.num(i)) : (i: number) => String(src.num(i));
      case 'timestamp': {
        const unit = (type as Timestamp).unit;
        return (i: number) => formatTimestamp(src.exact(i) ? src.num(i) : src.big(i), unit);
      }
      case 'date': {
        const perDay = (type as unknown as { unit: number }).unit === 0 ? 1 : 86400000;
        return (i: number) => formatDate(Math.floor(src.num(i) / perDay));
      }
      case 'time': {
        const unit = (type as unknown as { unit: number }).unit;
        return (i: number) => formatTime(src.num(i), unit);
      }
      default: // int, duration
        return (i: number) => (src.exact(i) ? String(src.num(i)) : String(src.big(i)));
    }
  })();
  // Formatted values are ASCII, so string length is byte length.
  const parts: string[] = new Array(n);
  const offsets = new Int32Array(n + 1);
  let pos = 0;
  for (let i = 0; i < n; i++) {
    const s = valid && !valid[i] ? '' : format(i);
    parts[i] = s;
    pos += s.length;
    offsets[i + 1] = pos;
  }
  const bytes = new Uint8Array(Buffer.from(parts.join(''), 'latin1'));
  return bytesColumn(to, offsets, bytes, valid, n);
}

/** The shortest decimal that reads back as the same float32 (0.1, not 0.10000000149011612). */
function shortestFloat32(x: number): string {
  if (!Number.isFinite(x) || Number.isSafeInteger(x)) return String(x);
  for (let digits = 1; digits < 9; digits++) {
    const s = Number(x.toPrecision(digits));
    if (Math.fround(s) === x) return String(s);
  }
  return String(x);
}
