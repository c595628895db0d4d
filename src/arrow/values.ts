// Scalar values inside Arrow Data, read the way the kernels read them: validity bits addressed from
// `data.offset`, 64-bit integers as two 32-bit halves (no BigInt per row), strings as UTF-8 bytes,
// dictionaries decoded to their values. And the reverse: columns built from typed arrays.
import { Data, Type, Vector, makeData, type DataType, type Dictionary } from 'apache-arrow';
import { concatData } from './concat.ts';
import { nullData } from './nulls.ts';
import { takeData } from './take.ts';

/**
 * How the kernels read a scalar type:
 * - number: Int8-32, Uint8-32, Float32/64, date32, time32: a typed array read as JS numbers;
 * - int64 / uint64: Int64, Uint64, timestamps, date64, time64, durations: BigInt64Array as halves;
 * - bool: bits; bytes: Utf8, Binary and their large forms: offsets and UTF-8 bytes.
 */
export type Physical = 'number' | 'int64' | 'uint64' | 'bool' | 'bytes';

/** The physical kind of a scalar type, or undefined (nested, dictionary, decimal, float16, ...). */
export function physicalOf(type: DataType): Physical | undefined {
  const t = type as DataType & { bitWidth?: number; isSigned?: boolean; precision?: number; unit?: number };
  switch (type.typeId) {
    case Type.Int: return t.bitWidth === 64 ? (t.isSigned ? 'int64' : 'uint64') : 'number';
    case Type.Float: return t.precision === 0 ? undefined : 'number';
    case Type.Date: return t.unit === 0 ? 'number' : 'int64';
    case Type.Time: return t.bitWidth === 64 ? 'int64' : 'number';
    case Type.Timestamp:
    case Type.Duration: return 'int64';
    case Type.Bool: return 'bool';
    case Type.Utf8:
    case Type.Binary:
    case Type.LargeUtf8:
    case Type.LargeBinary: return 'bytes';
    default: return undefined;
  }
}

/** The type a column has once dictionaries are decoded. */
export function valueType(type: DataType): DataType {
  return type.typeId === Type.Dictionary ? (type as Dictionary).dictionary : type;
}

/** Scalar (after decoding a dictionary): what keys, sorting and min/max accept. */
export const isScalar = (type: DataType) => physicalOf(valueType(type)) !== undefined;

/** Whether row `i` of `data` is valid (not null). */
export function isValid(data: Data, i: number): boolean {
  if (data.typeId === Type.Null) return false;
  const bitmap = data.nullBitmap;
  if (!bitmap || bitmap.length === 0 || data.nullCount === 0) return true;
  const bit = data.offset + i;
  return (bitmap[bit >> 3] & (1 << (bit & 7))) !== 0;
}

/** A byte per row, 1 where valid; null when the data has no nulls (the common, fast case). */
export function validBytes(data: Data): Uint8Array | null {
  if (data.typeId === Type.Null) return new Uint8Array(data.length);
  const bitmap = data.nullBitmap;
  if (!bitmap || bitmap.length === 0 || data.nullCount === 0) return null;
  const out = new Uint8Array(data.length);
  const offset = data.offset;
  for (let i = 0; i < data.length; i++) {
    const bit = offset + i;
    out[i] = (bitmap[bit >> 3] >> (bit & 7)) & 1;
  }
  return out;
}

/** Bool values as a byte per row (0 or 1). */
export function boolBytes(data: Data): Uint8Array {
  const bits = data.values as Uint8Array;
  const out = new Uint8Array(data.length);
  const offset = data.offset;
  for (let i = 0; i < data.length; i++) {
    const bit = offset + i;
    out[i] = (bits[bit >> 3] >> (bit & 7)) & 1;
  }
  return out;
}

/** The values of 64-bit data as 32-bit halves: row i is [2i] (low, unsigned) and [2i + 1] (high). */
export function halves(data: Data): Int32Array {
  const values = data.values as BigInt64Array;
  return new Int32Array(values.buffer, values.byteOffset, data.length * 2);
}

/** Offsets (from 0 or not, Int32 even for the large types) and the bytes they point into. */
export function bytesOf(data: Data): { offsets: Int32Array; bytes: Uint8Array } {
  const offsets = data.valueOffsets as Int32Array | BigInt64Array;
  if (offsets instanceof BigInt64Array) {
    const last = Number(offsets[data.length] ?? 0n);
    if (last > 0x7fffffff) throw new Error('string columns over 2 GiB per batch are not supported');
    const small = new Int32Array(data.length + 1);
    for (let i = 0; i <= data.length; i++) small[i] = Number(offsets[i]);
    return { offsets: small, bytes: data.values as Uint8Array };
  }
  return { offsets: offsets ?? new Int32Array(1), bytes: (data.values as Uint8Array) ?? new Uint8Array(0) };
}

/** Dictionary-encoded data as plain data of the dictionary's value type; other data unchanged. */
export function decodeDictionary(data: Data): Data {
  if (data.typeId !== Type.Dictionary) return data;
  const type = (data.type as Dictionary).dictionary;
  const chunks = (data.dictionary as Vector | undefined)?.data ?? [];
  const dictionary = chunks.length <= 1 ? chunks[0] : concatData(chunks);
  if (!dictionary || dictionary.length === 0) return nullData(type, data.length); // every row is null
  const valid = validBytes(data);
  const keys = data.values as ArrayLike<number | bigint>;
  const indices = new Int32Array(data.length);
  for (let i = 0; i < data.length; i++) indices[i] = valid && !valid[i] ? 0 : Number(keys[i]);
  const taken = takeData(dictionary, indices);
  return valid ? withValidity(taken, valid) : taken;
}

/** `data` with its validity replaced by `valid AND` its own validity (a byte per row, 1 = valid). */
export function withValidity<T extends DataType>(data: Data<T>, valid: Uint8Array): Data<T> {
  const own = validBytes(data);
  const length = data.length;
  const bitmap = new Uint8Array((length + 7) >> 3);
  let nulls = 0;
  for (let i = 0; i < length; i++) {
    if (valid[i] && (!own || own[i])) bitmap[i >> 3] |= 1 << (i & 7);
    else nulls++;
  }
  if (data.offset !== 0) throw new Error('withValidity needs data at offset 0');
  return data.clone(data.type, 0, length, nulls, [data.valueOffsets, data.values, nulls ? bitmap : undefined, data.typeIds] as never);
}

/** A validity bitmap from a byte per row (1 = valid); no bitmap when nothing is null. */
export function bitmapOf(valid: Uint8Array | null, length: number): { nullBitmap?: Uint8Array; nullCount: number } {
  if (!valid) return { nullCount: 0 };
  const bitmap = new Uint8Array((length + 7) >> 3);
  let nulls = 0;
  for (let i = 0; i < length; i++) {
    if (valid[i]) bitmap[i >> 3] |= 1 << (i & 7);
    else nulls++;
  }
  return nulls === 0 ? { nullCount: 0 } : { nullBitmap: bitmap, nullCount: nulls };
}

/** Packs a byte per row (0 or 1) into bits. */
export function packBits(bytes: Uint8Array, length: number): Uint8Array {
  const bits = new Uint8Array((length + 7) >> 3);
  for (let i = 0; i < length; i++) if (bytes[i]) bits[i >> 3] |= 1 << (i & 7);
  return bits;
}

/**
 * A column of a fixed-width or bool type from values (a typed array of the type's ArrayType, or a
 * byte per row for bool) and a byte per row of validity (null: all valid).
 */
export function fixedColumn(type: DataType, values: ArrayBufferView, valid: Uint8Array | null, length: number): Data {
  const data = type.typeId === Type.Bool ? packBits(values as Uint8Array, length) : values;
  return makeData({ type, length, data, ...bitmapOf(valid, length) } as never) as Data;
}

/** A Utf8/Binary (or large) column from Int32 offsets and bytes. */
export function bytesColumn(type: DataType, offsets: Int32Array, bytes: Uint8Array, valid: Uint8Array | null, length: number): Data {
  const large = type.typeId === Type.LargeUtf8 || type.typeId === Type.LargeBinary;
  let valueOffsets: Int32Array | BigInt64Array = offsets.length === length + 1 ? offsets : offsets.subarray(0, length + 1);
  if (large) valueOffsets = BigInt64Array.from(valueOffsets, (v) => BigInt(v));
  return makeData({ type, length, valueOffsets, data: bytes, ...bitmapOf(valid, length) } as never) as Data;
}

/** 64-bit data from halves (see `halves`). */
export function int64Column(type: DataType, halvesArray: Int32Array, valid: Uint8Array | null, length: number): Data {
  const values = new BigInt64Array(halvesArray.buffer, halvesArray.byteOffset, length);
  return fixedColumn(type, type.ArrayType === BigUint64Array ? new BigUint64Array(values.buffer, values.byteOffset, length) : values, valid, length);
}
