// The runtime form of a column while an expression is evaluated, and the conversions from and to
// Arrow Data. Values stay in typed arrays; nulls are one byte per row (1 = valid) while computing,
// because combining bytes is simpler and faster than combining bits, and become a bitmap at the end.
import { Data, DataType, makeData, Type, util, type Dictionary, type Vector } from 'apache-arrow';

/** One byte per row, 1 = valid; null = no row is null. */
export type Valid = Uint8Array | null;
export type NumArray = Float64Array | Float32Array | Int32Array | Int16Array | Int8Array | Uint32Array | Uint16Array | Uint8Array;
export type BigArray = BigInt64Array | BigUint64Array;

/**
 * How a value is held while computing:
 * - num: JS numbers; floats, and integers known (at compile time) to stay within 2^53, so exact;
 * - big: 64-bit integers (int64 beyond 2^53, timestamps, date64);
 * - bool: a byte per row, 0 or 1;
 * - str: UTF-8 bytes and int32 offsets, as Arrow stores utf8;
 * - none: a type the language only tests for null (lists, structs, ...) or the null type.
 */
export type Repr = 'num' | 'big' | 'bool' | 'str' | 'none';

interface Common {
  valid: Valid;
  /** A constant: arrays hold one value, which stands for every row. */
  scalar: boolean;
  /**
   * The values array was made by a kernel for this vec alone, so the next kernel may write its
   * result into it (x * 2 + y allocates one array, not two). Column data is never owned.
   */
  owned?: boolean;
}
export type NumVec = Common & { repr: 'num'; values: NumArray };
export type BigVec = Common & { repr: 'big'; values: BigArray };
export type BoolVec = Common & { repr: 'bool'; values: Uint8Array };
export type StrVec = Common & { repr: 'str'; offsets: Int32Array; bytes: Uint8Array };
export type NoneVec = Common & { repr: 'none' };
export type Vec = NumVec | BigVec | BoolVec | StrVec | NoneVec;

export const encoder = new TextEncoder();
export const decoder = new TextDecoder();

/** How values of an Arrow type are held; undefined for types the language cannot compute with. */
export function reprOf(type: DataType): Repr | undefined {
  switch (type.typeId) {
    case Type.Int: return (type as unknown as { bitWidth: number }).bitWidth === 64 ? 'big' : 'num';
    case Type.Float: return 'num';
    case Type.Bool: return 'bool';
    case Type.Utf8: case Type.LargeUtf8: return 'str';
    case Type.Dictionary: return isStringDictionary(type) ? 'str' : undefined;
    case Type.Date: return (type as unknown as { unit: number }).unit === 0 ? 'num' : 'big';
    case Type.Timestamp: return 'big';
    default: return undefined;
  }
}

export function isStringDictionary(type: DataType): boolean {
  if (type.typeId !== Type.Dictionary) return false;
  const values = (type as Dictionary).dictionary.typeId;
  return values === Type.Utf8 || values === Type.LargeUtf8;
}

// ---- validity ------------------------------------------------------------------------------

/** The validity of `data` as bytes, or null when nothing is null. */
export function readValidity(data: Data, n: number): Valid {
  if (data.typeId === Type.Null) return new Uint8Array(n);
  const bitmap = data.nullBitmap;
  if (!bitmap || bitmap.length === 0 || data.nullCount === 0) return null;
  const out = new Uint8Array(n);
  const offset = data.offset;
  for (let i = 0; i < n; i++) {
    const bit = offset + i;
    out[i] = (bitmap[bit >> 3] >> (bit & 7)) & 1;
  }
  return out;
}

/** A scalar's single validity byte as "all valid" (null) or "all null" (zeros). */
function expand(vec: Vec, n: number): Valid {
  if (!vec.scalar) return vec.valid;
  return vec.valid && vec.valid[0] === 0 ? new Uint8Array(n) : null;
}

/** Rows valid in all of `vecs` (the usual rule: any null input gives null). */
export function allValid(vecs: readonly Vec[], n: number): Valid {
  let out: Valid = null;
  let shared = true; // `out` may be an input's array, which must not be written to
  for (const vec of vecs) {
    const v = expand(vec, n);
    if (!v) continue;
    if (!out) {
      out = v;
      continue;
    }
    if (shared) {
      out = out.slice();
      shared = false;
    }
    for (let i = 0; i < n; i++) out[i] &= v[i];
  }
  return out;
}

export const isValid = (vec: Vec, i: number): boolean => !vec.valid || vec.valid[vec.scalar ? 0 : i] === 1;

function toBitmap(valid: Valid, n: number): { nullBitmap?: Uint8Array; nullCount: number } {
  if (!valid) return { nullCount: 0 };
  const bitmap = new Uint8Array(((n + 63) >> 6) << 3);
  let nulls = 0;
  for (let i = 0; i < n; i++) {
    if (valid[i]) bitmap[i >> 3] |= 1 << (i & 7);
    else nulls++;
  }
  return nulls === 0 ? { nullCount: 0 } : { nullBitmap: bitmap, nullCount: nulls };
}

// ---- constants -----------------------------------------------------------------------------

const oneNull = () => new Uint8Array(1);

export function constant(value: number | bigint | boolean | string | null, repr: Repr): Vec {
  const valid = value === null ? oneNull() : null;
  switch (repr) {
    case 'num': return { repr, values: Float64Array.of(value === null ? 0 : Number(value)), valid, scalar: true };
    case 'big': return { repr, values: BigInt64Array.of(value === null ? 0n : BigInt(value as bigint)), valid, scalar: true };
    case 'bool': return { repr, values: Uint8Array.of(value ? 1 : 0), valid, scalar: true };
    case 'str': {
      const bytes = encoder.encode(value === null ? '' : String(value));
      return { repr, offsets: Int32Array.of(0, bytes.length), bytes, valid, scalar: true };
    }
    case 'none': return { repr, valid: oneNull(), scalar: true };
  }
}

/** The value of a scalar vec (null when it is null). */
export function scalarValue(vec: Vec): number | bigint | boolean | string | null {
  if (!isValid(vec, 0)) return null;
  switch (vec.repr) {
    case 'num': return vec.values[0];
    case 'big': return vec.values[0];
    case 'bool': return vec.values[0] === 1;
    case 'str': return decoder.decode(vec.bytes.subarray(vec.offsets[0], vec.offsets[1]));
    case 'none': return null;
  }
}

// ---- numeric conversions -------------------------------------------------------------------

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const TWO32 = 4294967296;

/** Values as JS numbers (int64 rounds to the nearest double, as float arithmetic needs). */
export function nums(vec: NumVec | BigVec): NumArray {
  if (vec.repr === 'num') return vec.values;
  const src = vec.values;
  const n = src.length;
  const out = new Float64Array(n);
  if (littleEndian) {
    // hi * 2^32 is exact and the one addition rounds once, so this equals Number(bigint).
    const lo = new Uint32Array(src.buffer, src.byteOffset, n * 2);
    const hi = src instanceof BigInt64Array ? new Int32Array(src.buffer, src.byteOffset, n * 2) : lo;
    for (let i = 0; i < n; i++) out[i] = hi[2 * i + 1] * TWO32 + lo[2 * i];
  } else {
    for (let i = 0; i < n; i++) out[i] = Number(src[i]);
  }
  return out;
}

export const INT64_MAX = 2n ** 63n - 1n;
export const INT64_MIN = -(2n ** 63n);

/** Values as signed 64-bit integers; `num` values must be integers (exact). */
export function bigs(vec: NumVec | BigVec, valid: Valid, overflow: () => Error): BigInt64Array {
  const src = vec.values;
  if (src instanceof BigInt64Array) return src;
  if (src instanceof BigUint64Array) {
    // uint64 beyond int64 cannot become int64: an error, where the row is not null.
    for (let i = 0; i < src.length; i++) if (src[i] > INT64_MAX && (!valid || valid[vec.scalar ? 0 : i])) throw overflow();
    return new BigInt64Array(src.buffer, src.byteOffset, src.length);
  }
  return int64FromNumbers(src, src.length);
}

/** Exact integers held as numbers -> int64, without a BigInt per value. */
export function int64FromNumbers(src: NumArray, n: number): BigInt64Array {
  const out = new BigInt64Array(n);
  if (!littleEndian) {
    for (let i = 0; i < n; i++) out[i] = Number.isFinite(src[i]) ? BigInt(src[i]) : 0n;
    return out;
  }
  const words = new Int32Array(out.buffer);
  for (let i = 0; i < n; i++) {
    const v = src[i];
    const hi = Math.floor(v / TWO32);
    words[2 * i] = (v - hi * TWO32) | 0;
    words[2 * i + 1] = hi;
  }
  return out;
}

// ---- strings -------------------------------------------------------------------------------

/** Builds a utf8 vec from one JS string per row (`null` for a null row). */
export function strFromStrings(strings: readonly (string | null)[], valid: Valid): StrVec {
  const n = strings.length;
  let capacity = 0;
  for (let i = 0; i < n; i++) capacity += (strings[i]?.length ?? 0) * 3;
  const bytes = new Uint8Array(capacity);
  const offsets = new Int32Array(n + 1);
  let pos = 0;
  for (let i = 0; i < n; i++) {
    const s = strings[i];
    if (s) pos += encoder.encodeInto(s, bytes.subarray(pos)).written;
    offsets[i + 1] = pos;
  }
  return { repr: 'str', offsets, bytes: bytes.subarray(0, pos), valid, scalar: false };
}

/** The utf8 values of a (possibly multi-chunk) dictionary vector, as one vec. */
function dictionaryValues(dictionary: Vector): StrVec {
  const chunks = dictionary.data.map((d) => readColumn(d, d.length) as StrVec);
  if (chunks.length === 1) return chunks[0];
  const total = chunks.reduce((s, c) => s + c.offsets.length - 1, 0);
  const offsets = new Int32Array(total + 1);
  const bytes = new Uint8Array(chunks.reduce((s, c) => s + c.offsets[c.offsets.length - 1] - c.offsets[0], 0));
  let row = 0;
  let pos = 0;
  for (const c of chunks) {
    const base = c.offsets[0];
    const end = c.offsets[c.offsets.length - 1];
    bytes.set(c.bytes.subarray(base, end), pos);
    for (let i = 1; i < c.offsets.length; i++) offsets[++row] = c.offsets[i] - base + pos;
    pos += end - base;
  }
  return { repr: 'str', offsets, bytes, valid: null, scalar: false };
}

// ---- Arrow Data -> vec ---------------------------------------------------------------------

/** The first `n` rows of an Arrow column as a vec (shares its buffers where it can). */
export function readColumn(data: Data, n: number): Vec {
  const valid = readValidity(data, n);
  const type = data.type as DataType;
  switch (type.typeId) {
    case Type.Int:
    case Type.Date:
    case Type.Timestamp: {
      const values = data.values as NumArray | BigArray;
      if (values instanceof BigInt64Array || values instanceof BigUint64Array) return { repr: 'big', values: values.subarray(0, n), valid, scalar: false };
      return { repr: 'num', values: values.subarray(0, n), valid, scalar: false };
    }
    case Type.Float: {
      if ((type as unknown as { precision: number }).precision === 0) {
        const half = data.values as Uint16Array;
        const values = new Float64Array(n);
        for (let i = 0; i < n; i++) values[i] = util.uint16ToFloat64(half[i]);
        return { repr: 'num', values, valid, scalar: false };
      }
      return { repr: 'num', values: (data.values as Float64Array).subarray(0, n), valid, scalar: false };
    }
    case Type.Bool: {
      const bits = data.values as Uint8Array;
      const values = new Uint8Array(n);
      const offset = data.offset;
      for (let i = 0; i < n; i++) {
        const bit = offset + i;
        values[i] = (bits[bit >> 3] >> (bit & 7)) & 1;
      }
      return { repr: 'bool', values, valid, scalar: false };
    }
    case Type.Utf8:
      return { repr: 'str', offsets: (data.valueOffsets as Int32Array).subarray(0, n + 1), bytes: data.values as Uint8Array, valid, scalar: false };
    case Type.LargeUtf8: {
      const large = data.valueOffsets as unknown as BigInt64Array;
      const offsets = new Int32Array(n + 1);
      const base = large[0];
      if (large[n] - base > 0x7fffffffn) throw new Error('a large_utf8 batch holds more than 2 GiB of text; split it into smaller batches');
      for (let i = 0; i <= n; i++) offsets[i] = Number(large[i] - base);
      const bytes = (data.values as Uint8Array).subarray(Number(base));
      return { repr: 'str', offsets, bytes, valid, scalar: false };
    }
    case Type.Dictionary: {
      if (!isStringDictionary(type)) return { repr: 'none', valid, scalar: false };
      // Decoded to plain utf8: gather each row's bytes from its dictionary entry.
      const dict = dictionaryValues(data.dictionary!);
      const keys = data.values as NumArray | BigArray;
      const at = (i: number) => Number(keys[i]);
      let total = 0;
      for (let i = 0; i < n; i++) if (!valid || valid[i]) total += dict.offsets[at(i) + 1] - dict.offsets[at(i)];
      const bytes = new Uint8Array(total);
      const offsets = new Int32Array(n + 1);
      let pos = 0;
      for (let i = 0; i < n; i++) {
        if (!valid || valid[i]) {
          const k = at(i);
          const start = dict.offsets[k];
          const end = dict.offsets[k + 1];
          bytes.set(dict.bytes.subarray(start, end), pos);
          pos += end - start;
        }
        offsets[i + 1] = pos;
      }
      return { repr: 'str', offsets, bytes, valid, scalar: false };
    }
    default:
      return { repr: 'none', valid, scalar: false };
  }
}

// ---- vec -> Arrow Data ---------------------------------------------------------------------

/** A vec as `n` rows of Arrow Data of `type` (the type the checker gave the expression). */
export function toData(vec: Vec, type: DataType, n: number): Data {
  const validity = toBitmap(vec.scalar ? expand(vec, n) : vec.valid, n);
  const make = (props: Record<string, unknown>) => makeData({ type, length: n, ...validity, ...props } as never) as Data;
  switch (type.typeId) {
    case Type.Null:
      return makeData({ type, length: n, nullCount: n } as never) as Data;
    case Type.Bool: {
      const v = vec as BoolVec;
      const bits = new Uint8Array(((n + 63) >> 6) << 3);
      if (v.scalar) {
        if (v.values[0]) for (let i = 0; i < n; i++) bits[i >> 3] |= 1 << (i & 7);
      } else {
        for (let i = 0; i < n; i++) bits[i >> 3] |= v.values[i] << (i & 7);
      }
      return make({ data: bits });
    }
    case Type.Utf8: {
      const v = vec as StrVec;
      if (v.scalar) {
        const one = v.bytes.subarray(v.offsets[0], v.offsets[1]);
        const bytes = new Uint8Array(one.length * n);
        const offsets = new Int32Array(n + 1);
        for (let i = 0; i < n; i++) {
          bytes.set(one, i * one.length);
          offsets[i + 1] = (i + 1) * one.length;
        }
        return make({ valueOffsets: offsets, data: bytes });
      }
      let { offsets, bytes } = v;
      if (offsets[0] !== 0) {
        const base = offsets[0];
        bytes = bytes.subarray(base, offsets[n]);
        offsets = offsets.map((o) => o - base);
      }
      return make({ valueOffsets: offsets, data: bytes });
    }
    default: {
      // Fixed width: ints, floats, dates, timestamps.
      const v = vec as NumVec | BigVec;
      const Ctor = (type as unknown as { ArrayType: new (n: number) => NumArray | BigArray }).ArrayType;
      const src = v.values;
      let out: NumArray | BigArray;
      if (v.scalar) {
        out = new Ctor(n);
        if (out instanceof BigInt64Array || out instanceof BigUint64Array) out.fill(BigInt(src[0]));
        else out.fill(Number(src[0]));
      } else if (src instanceof Ctor) {
        out = src.subarray(0, n);
      } else if (Ctor === BigInt64Array) {
        out = src instanceof BigUint64Array ? new BigInt64Array(src.buffer, src.byteOffset, n) : int64FromNumbers(src as NumArray, n);
      } else if (Ctor === BigUint64Array) {
        out = new BigUint64Array(n);
        for (let i = 0; i < n; i++) out[i] = BigInt.asUintN(64, BigInt(src[i]));
      } else {
        out = new Ctor(n);
        if (src instanceof BigInt64Array || src instanceof BigUint64Array) (out as Float64Array).set(nums(v as BigVec).subarray(0, n));
        else (out as Float64Array).set(src.subarray(0, n));
      }
      return make({ data: out });
    }
  }
}
