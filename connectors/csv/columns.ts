// Field ranges → Arrow column data, one typed loop per type: values go straight from the input
// bytes into typed arrays and validity bitmaps (makeData), strings into offsets + copied bytes.
import {
  TimeUnit, Type, makeData, type Data, type DataType, type DateDay, type Field, type Float64, type Timestamp,
} from 'apache-arrow';
import { typeName } from '../../src/arrow/types.ts';
import { InputError, SchemaError } from '../../src/workflow/errors.ts';
import { BIG, isNaNSpelling, parseBigInteger, parseBool, parseFloat64, parseInteger } from './numbers.ts';
import { compileFormat, parsed, parseIso, zoneConverter, type TimestampFormat, type ZoneConverter } from './timestamps.ts';
import { ESCAPED, FieldTable, PLAIN, SPACE, unescape } from './tokenize.ts';

/** How one column is read. */
export interface ColumnSpec {
  field: Field;
  /** Declared in `schema` (or given a per-column format), as opposed to inferred. */
  declared: boolean;
  /** Format tried before ISO 8601 for timestamp and date columns. */
  format?: string;
}

/** What every column of a read shares. */
export interface ReadContext {
  file: string;
  quote: number;
  nullValues: string[];
  timezone: string;
  /** The 1-based physical line of a byte offset of the input. */
  lineAt(offset: number): number;
  /**
   * Told of a value its column cannot read (row of the field table, why, its line); the value is
   * then read as null and the caller sets the row aside. Without it such a value throws.
   */
  badValue?(row: number, reason: string, line: number): void;
}

/** Builds one column's data from the field table, for rows 0..table.rows. */
export type ColumnBuilder = (buf: Uint8Array, table: FieldTable, column: number) => Data;

/** Whether source.csv can produce a column of this type. */
export function readableType(type: DataType): boolean {
  switch (type.typeId) {
    case Type.Bool: case Type.Int: case Type.Utf8: case Type.LargeUtf8: case Type.Binary: case Type.Date: case Type.Timestamp:
      return true;
    case Type.Float:
      return (type as Float64).precision !== 0;
    default:
      return false;
  }
}

export function checkReadable(field: Field): void {
  if (!readableType(field.type)) {
    throw new SchemaError(`column '${field.name}': source.csv cannot read ${typeName(field.type)} (it reads bool, integers, float32/64, utf8, binary, date32/64 and timestamps)`);
  }
}

/** Shared scratch for unescaped fields. */
let scratch = new Uint8Array(256);
function scratchFor(length: number): Uint8Array {
  if (scratch.length < length) scratch = new Uint8Array(Math.max(length, scratch.length * 2));
  return scratch;
}

const decoder = new TextDecoder();

/** A value for a message: quoted, and cut short so that one huge field cannot flood a log. */
function quoteCapped(value: string): string {
  return `'${value.length > 80 ? `${value.slice(0, 80)}…' (${value.length} characters)` : `${value}'`}`;
}

export function columnBuilder(spec: ColumnSpec, ctx: ReadContext): ColumnBuilder {
  checkReadable(spec.field);
  const { field } = spec;
  const type = field.type as DataType;
  const { quote } = ctx;
  const nullEmpty = ctx.nullValues.includes('');
  const encoder = new TextEncoder();
  const otherNulls = ctx.nullValues.filter((v) => v !== '').map((v) => encoder.encode(v));
  const isOtherNull = (b: Uint8Array, s: number, e: number) => {
    for (const candidate of otherNulls) {
      if (candidate.length !== e - s) continue;
      let k = 0;
      while (k < candidate.length && candidate[k] === b[s + k]) k++;
      if (k === candidate.length) return true;
    }
    return false;
  };
  const hasOtherNulls = otherNulls.length > 0;
  const typeText = typeName(type);
  /** A value that cannot be read: thrown, or told to ctx.badValue (the caller then stores a null). */
  const fail = (table: FieldTable, k: number, b: Uint8Array, s: number, e: number): void => {
    const value = quoteCapped(decoder.decode(b.subarray(s, e)));
    const hint = spec.declared
      ? 'declared in schema'
      : `the type inferred from a sample of the first file; declare the column in schema, e.g. schema: {${field.name}: utf8}`;
    const reason = `column '${field.name}': cannot read ${value} as ${typeText} (${hint})`;
    const line = ctx.lineAt(table.starts[k]);
    if (!ctx.badValue) throw new InputError(ctx.file, reason, line);
    ctx.badValue(Math.floor(k / table.columns), reason, line);
  };

  /**
   * The common loop of the non-string types: each field's content, spaces trimmed, nulls
   * skipped; `value` stores the row's value or returns false for a value it cannot read.
   */
  const typedLoop = (
    buf: Uint8Array, table: FieldTable, column: number,
    value: (b: Uint8Array, s: number, e: number, row: number) => boolean,
  ): { validity: Uint8Array; nullCount: number } => {
    const rows = table.rows;
    const n = table.columns;
    const { starts, ends, kinds } = table;
    const validity = new Uint8Array((rows + 7) >> 3);
    let nullCount = 0;
    for (let r = 0, k = column; r < rows; r++, k += n) {
      let s = starts[k];
      let e = ends[k];
      let b = buf;
      if (kinds[k] === ESCAPED) {
        b = scratchFor(e - s);
        e = unescape(buf, s, e, quote, b, 0);
        s = 0;
      }
      while (s < e && b[s] === SPACE) s++;
      while (e > s && b[e - 1] === SPACE) e--;
      if (e === s ? nullEmpty : hasOtherNulls && isOtherNull(b, s, e)) {
        nullCount++;
        continue;
      }
      if (!value(b, s, e, r)) {
        fail(table, k, b, s, e);
        nullCount++;
        continue;
      }
      validity[r >> 3] |= 1 << (r & 7);
    }
    return { validity, nullCount };
  };

  const finish = (props: Record<string, unknown>, rows: number, validity: Uint8Array, nullCount: number) =>
    makeData({ type, length: rows, nullCount, ...(nullCount > 0 ? { nullBitmap: validity } : {}), ...props } as never) as Data;

  switch (type.typeId) {
    case Type.Float: {
      const Ctor = (type as Float64).precision === 2 ? Float64Array : Float32Array;
      return (buf, table, column) => {
        const rows = table.rows;
        const values = new Ctor(rows);
        // Float64 is the hot path: its loop is written out in full.
        if (Ctor === Float64Array && !hasOtherNulls) return float64Loop(buf, table, column, values as Float64Array, nullEmpty, quote, fail, finish);
        const { validity, nullCount } = typedLoop(buf, table, column, (b, s, e, r) => {
          const v = parseFloat64(b, s, e);
          if (v !== v && !isNaNSpelling(b, s, e)) return false;
          values[r] = v;
          return true;
        });
        return finish({ data: values }, rows, validity, nullCount);
      };
    }
    case Type.Int: {
      const { bitWidth, isSigned } = type as unknown as { bitWidth: number; isSigned: boolean };
      if (bitWidth === 64) {
        return (buf, table, column) => {
          const rows = table.rows;
          const values = isSigned ? new BigInt64Array(rows) : new BigUint64Array(rows);
          const words = new Uint32Array(values.buffer);
          const { validity, nullCount } = typedLoop(buf, table, column, (b, s, e, r) => {
            const v = parseInteger(b, s, e);
            if (v !== v) return false;
            if (v === BIG || (!isSigned && v < 0)) {
              const big = bigValue(b, s, e, isSigned);
              if (big === undefined) return false;
              values[r] = big;
              return true;
            }
            words[2 * r] = v >>> 0;
            words[2 * r + 1] = Math.floor(v / 4294967296);
            return true;
          });
          return finish({ data: values }, rows, validity, nullCount);
        };
      }
      const [Ctor, min, max] = intArray(type);
      return (buf, table, column) => {
        const rows = table.rows;
        const values = new Ctor(rows);
        const { validity, nullCount } = typedLoop(buf, table, column, (b, s, e, r) => {
          const v = parseInteger(b, s, e);
          if (!(v >= min && v <= max)) return false;
          values[r] = v;
          return true;
        });
        return finish({ data: values }, rows, validity, nullCount);
      };
    }
    case Type.Bool:
      return (buf, table, column) => {
        const rows = table.rows;
        const bits = new Uint8Array((rows + 7) >> 3);
        const { validity, nullCount } = typedLoop(buf, table, column, (b, s, e, r) => {
          const v = parseBool(b, s, e);
          if (v < 0) return false;
          if (v) bits[r >> 3] |= 1 << (r & 7);
          return true;
        });
        return finish({ data: bits }, rows, validity, nullCount);
      };
    case Type.Timestamp:
    case Type.Date: {
      // A date has no time zone: its day is the one written.
      const read = temporalReader(spec.format, zoneConverter(type.typeId === Type.Date ? 'UTC' : ctx.timezone));
      const unit = type.typeId === Type.Timestamp ? (type as Timestamp).unit : -1;
      const dateDay = type.typeId === Type.Date && (type as DateDay).unit === 0;
      return (buf, table, column) => {
        const rows = table.rows;
        const values = dateDay ? new Int32Array(rows) : new BigInt64Array(rows);
        const words = new Uint32Array(values.buffer);
        const { validity, nullCount } = typedLoop(buf, table, column, (b, s, e, r) => {
          if (!read(b, s, e)) return false;
          if (dateDay) {
            values[r] = Math.floor(parsed.ms / 86_400_000);
            return true;
          }
          let v: number;
          switch (unit) {
            case TimeUnit.SECOND: v = Math.floor(parsed.ms / 1000); break;
            case TimeUnit.MILLISECOND: v = parsed.ms; break;
            case TimeUnit.MICROSECOND: v = parsed.ms * 1000 + Math.floor(parsed.subMs / 1000); break;
            case TimeUnit.NANOSECOND:
              (values as BigInt64Array)[r] = BigInt(parsed.ms) * 1_000_000n + BigInt(parsed.subMs);
              return true;
            default: v = Math.floor(parsed.ms / 86_400_000) * 86_400_000; // date64
          }
          words[2 * r] = v >>> 0;
          words[2 * r + 1] = Math.floor(v / 4294967296);
          return true;
        });
        return finish({ data: values }, rows, validity, nullCount);
      };
    }
    case Type.Utf8:
    case Type.LargeUtf8:
    case Type.Binary:
      return (buf, table, column) => stringColumn(buf, table, column, quote, nullEmpty, hasOtherNulls ? isOtherNull : undefined, finish, type.typeId === Type.LargeUtf8);
    default:
      throw new SchemaError(`column '${field.name}': source.csv cannot read ${typeText}`);
  }
}

function bigValue(b: Uint8Array, s: number, e: number, signed: boolean): bigint | undefined {
  let text = '';
  for (let i = s; i < e; i++) text += String.fromCharCode(b[i]);
  if (signed) return parseBigInteger(text);
  const v = BigInt(text.startsWith('+') ? text.slice(1) : text);
  return v < 0n || v >= 1n << 64n ? undefined : v;
}

type IntCtor = Int8ArrayConstructor | Int16ArrayConstructor | Int32ArrayConstructor | Uint8ArrayConstructor | Uint16ArrayConstructor | Uint32ArrayConstructor;

function intArray(type: DataType): [IntCtor, number, number] {
  const { bitWidth, isSigned } = type as unknown as { bitWidth: number; isSigned: boolean };
  if (isSigned) {
    const ctor = bitWidth === 8 ? Int8Array : bitWidth === 16 ? Int16Array : Int32Array;
    const max = 2 ** (bitWidth - 1) - 1;
    return [ctor, -max - 1, max];
  }
  const ctor = bitWidth === 8 ? Uint8Array : bitWidth === 16 ? Uint16Array : Uint32Array;
  return [ctor, 0, 2 ** bitWidth - 1];
}

/** A reader of one timestamp value: the column's format first, then ISO 8601; sets `parsed`. */
export function temporalReader(format: string | undefined, zone: ZoneConverter): (b: Uint8Array, s: number, e: number) => boolean {
  const compiled: TimestampFormat | undefined = format === undefined ? undefined : compileFormat(format);
  if (!compiled) return (b, s, e) => parseIso(b, s, e, zone);
  return (b, s, e) => compiled.parse(b, s, e, zone) || parseIso(b, s, e, zone);
}

type Fail = (table: FieldTable, k: number, b: Uint8Array, s: number, e: number) => void;
type Finish = (props: Record<string, unknown>, rows: number, validity: Uint8Array, nullCount: number) => Data;

/** The float64 loop with everything inlined (the common case of numeric CSV). */
function float64Loop(buf: Uint8Array, table: FieldTable, column: number, values: Float64Array, nullEmpty: boolean, quote: number, fail: Fail, finish: Finish): Data {
  const rows = table.rows;
  const n = table.columns;
  const { starts, ends, kinds } = table;
  const validity = new Uint8Array((rows + 7) >> 3);
  let nullCount = 0;
  let bits = 0;
  for (let r = 0, k = column; r < rows; r++, k += n) {
    let s = starts[k];
    let e = ends[k];
    let b = buf;
    if (kinds[k] === ESCAPED) {
      b = scratchFor(e - s);
      e = unescape(buf, s, e, quote, b, 0);
      s = 0;
    }
    while (s < e && b[s] === SPACE) s++;
    while (e > s && b[e - 1] === SPACE) e--;
    if (e === s && nullEmpty) {
      nullCount++;
    } else {
      const v = parseFloat64(b, s, e);
      if (v !== v && !isNaNSpelling(b, s, e)) {
        fail(table, k, b, s, e);
        nullCount++;
      } else {
        values[r] = v;
        bits |= 1 << (r & 7);
      }
    }
    if ((r & 7) === 7) {
      validity[r >> 3] = bits;
      bits = 0;
    }
  }
  if (rows & 7) validity[rows >> 3] = bits;
  return finish({ data: values }, rows, validity, nullCount);
}

/** Strings: offsets plus the content bytes copied (unescaped where needed). Quoted fields are never null. */
function stringColumn(
  buf: Uint8Array, table: FieldTable, column: number, quote: number, nullEmpty: boolean,
  isOtherNull: ((b: Uint8Array, s: number, e: number) => boolean) | undefined, finish: Finish, large: boolean,
): Data {
  const rows = table.rows;
  const n = table.columns;
  const { starts, ends, kinds } = table;
  let total = 0;
  for (let r = 0, k = column; r < rows; r++, k += n) total += ends[k] - starts[k];
  const data = new Uint8Array(total);
  const offsets = new Int32Array(rows + 1);
  const validity = new Uint8Array((rows + 7) >> 3);
  let nullCount = 0;
  let at = 0;
  for (let r = 0, k = column; r < rows; r++, k += n) {
    const s = starts[k];
    const e = ends[k];
    const kind = kinds[k];
    if (kind === PLAIN && (e === s ? nullEmpty : isOtherNull !== undefined && isOtherNull(buf, s, e))) {
      nullCount++;
      offsets[r + 1] = at;
      continue;
    }
    if (kind === ESCAPED) at += unescape(buf, s, e, quote, data, at);
    else if (e - s < 24) for (let i = s; i < e; i++) data[at++] = buf[i];
    else {
      data.set(buf.subarray(s, e), at);
      at += e - s;
    }
    offsets[r + 1] = at;
    validity[r >> 3] |= 1 << (r & 7);
  }
  const valueOffsets = large ? BigInt64Array.from(offsets, (o) => BigInt(o)) : offsets;
  return finish({ data: at === total ? data : data.subarray(0, at), valueOffsets }, rows, validity, nullCount);
}
