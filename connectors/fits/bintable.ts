// Binary tables (FITS 4.0 §7.3) as Arrow columns, named by TTYPE, units (TUNIT) in field metadata.
// TFORM rTa: L logical (null when neither T nor F), X bits, B/I/J/K integers, A text, E/D floats,
// C/M complex (a trailing axis of 2), P/Q variable-length arrays in the heap. Scaled integers
// (TSCAL/TZERO) become float64 physical values, except the unsigned conventions (B with TZERO
// −128 → int8, I 32768 → uint16, J 2^31 → uint32, K 2^63 → uint64), which keep an exact integer
// type. TNULL marks nulls in scalar integer columns (NaN in scaled or array ones). A column with
// more than one element is a fixed-size list carrying arrow.fixed_shape_tensor with its TDIM shape.
import {
  Bool, Field, FixedSizeList, Float32, Float64, Int16, Int32, Int64, Int8, List, makeData, Uint16, Uint32, Uint64, Uint8, Utf8,
  type Data, type DataType,
} from 'apache-arrow';
import { bytesColumn } from '../../src/arrow/values.ts';
import { checkBudget } from '../../src/io/limits.ts';
import type { FitsHeader } from './header.ts';

type Code = 'L' | 'X' | 'B' | 'I' | 'J' | 'K' | 'A' | 'E' | 'D' | 'C' | 'M';

export interface BinColumn {
  name: string;
  /** Elements per row (for P/Q: the descriptor; the elements are in the heap). */
  repeat: number;
  code: Code;
  /** Variable-length: 'P' (32-bit descriptors) or 'Q' (64-bit). */
  variable?: 'P' | 'Q';
  /** Byte offset within a row, and the bytes the field takes. */
  offset: number;
  width: number;
  scale: number;
  zero: number;
  tnull?: bigint;
  /** C-order shape of one row's elements (TDIM reversed), complex with a trailing 2. */
  shape: number[];
  unit?: string;
  /** The Arrow type of one element (after scaling). */
  element: DataType;
}

const sizes: Record<Code, number> = { L: 1, X: 1, B: 1, I: 2, J: 4, K: 8, A: 1, E: 4, D: 8, C: 8, M: 16 };
const unsignedZero: Partial<Record<Code, number>> = { B: -128, I: 32768, J: 2147483648, K: 2 ** 63 };

export function parseTform(tform: string): { repeat: number; code: Code; variable?: 'P' | 'Q' } {
  const m = /^\s*(\d*)([LXBIJKAEDCMPQ])(.*)$/.exec(tform);
  if (!m) throw new Error(`TFORM '${tform}' is not a binary table format`);
  const repeat = m[1] === '' ? 1 : Number(m[1]);
  if (m[2] === 'P' || m[2] === 'Q') {
    const inner = /^([LXBIJKAEDCM])/.exec(m[3]);
    if (!inner) throw new Error(`TFORM '${tform}': a variable-length array needs an element type (e.g. 1PE(100))`);
    return { repeat, code: inner[1] as Code, variable: m[2] };
  }
  return { repeat, code: m[2] as Code };
}

function elementType(code: Code, scale: number, zero: number): DataType {
  switch (code) {
    case 'L': case 'X': return new Bool();
    case 'A': return new Utf8();
    case 'E': return scale === 1 && zero === 0 ? new Float32() : new Float64();
    case 'D': return new Float64();
    case 'C': return new Float32();
    case 'M': return new Float64();
    default: {
      if (scale === 1 && zero === 0) return { B: new Uint8(), I: new Int16(), J: new Int32(), K: new Int64() }[code];
      if (scale === 1 && zero === unsignedZero[code]) return { B: new Int8(), I: new Uint16(), J: new Uint32(), K: new Uint64() }[code];
      return new Float64();
    }
  }
}

export function binColumns(header: FitsHeader): BinColumn[] {
  const count = header.integer('TFIELDS');
  const columns: BinColumn[] = [];
  let offset = 0;
  for (let n = 1; n <= count; n++) {
    const tform = header.string(`TFORM${n}`);
    if (tform === undefined) throw new Error(`column ${n} has no TFORM${n}`);
    const { repeat, code, variable } = parseTform(tform);
    const width = variable ? repeat * (variable === 'P' ? 8 : 16) : code === 'X' ? Math.ceil(repeat / 8) : repeat * sizes[code];
    const scale = header.number(`TSCAL${n}`, 1);
    const zero = header.number(`TZERO${n}`, 0);
    const tnull = header.get(`TNULL${n}`);
    const tdim = header.string(`TDIM${n}`);
    let shape = tdim ? tdim.replace(/[()\s]/g, '').split(',').map(Number).reverse() : [repeat];
    if (shape.some((d) => !Number.isInteger(d) || d < 1) || shape.reduce((a, b) => a * b, 1) > Math.max(repeat, 1)) {
      throw new Error(`column ${n}: TDIM${n} '${tdim}' does not fit its ${repeat} elements`);
    }
    if (code === 'A') shape = shape.slice(0, -1); // the last axis is the string length
    if (code === 'C' || code === 'M') shape = [...shape, 2];
    columns.push({
      name: header.string(`TTYPE${n}`)?.trim() || `col${n}`, repeat, code, variable, offset, width, scale, zero,
      tnull: typeof tnull === 'number' || typeof tnull === 'bigint' ? BigInt(tnull) : undefined,
      shape, unit: header.string(`TUNIT${n}`)?.trim() || undefined, element: elementType(code, scale, zero),
    });
    offset += width;
  }
  if (offset > header.integer('NAXIS1')) throw new Error(`the columns take ${offset} bytes, more than a row's NAXIS1 = ${header.integer('NAXIS1')}`);
  // The heap lies after the rows and within PCOUNT: reads of it are sized from THEAP.
  const rowsEnd = header.integer('NAXIS1') * header.integer('NAXIS2', 0);
  const theap = header.integer('THEAP', rowsEnd);
  if (theap < rowsEnd || theap > rowsEnd + header.integer('PCOUNT', 0)) throw new Error(`THEAP ${theap} is outside the heap (bytes ${rowsEnd}-${rowsEnd + header.integer('PCOUNT', 0)} of the data)`);
  return columns;
}

const elements = (c: BinColumn) => c.shape.reduce((a, b) => a * b, 1);

/** The Arrow field of a column. */
export function binField(c: BinColumn): Field {
  const metadata = new Map<string, string>();
  if (c.unit) metadata.set('unit', c.unit);
  const element = new Field('item', c.element, c.variable !== undefined || c.tnull !== undefined);
  if (c.variable) return new Field(c.name, new List(element), true, metadata);
  const n = elements(c);
  if (c.code !== 'A' && n === 1 && c.shape.length <= 1) return new Field(c.name, c.element, c.code === 'L' || c.tnull !== undefined, metadata);
  if (c.code === 'A' && n === 1) return new Field(c.name, c.element, false, metadata);
  metadata.set('ARROW:extension:name', 'arrow.fixed_shape_tensor');
  metadata.set('ARROW:extension:metadata', JSON.stringify({ shape: c.shape }));
  return new Field(c.name, new FixedSizeList(n, new Field('value', c.element, false)), false, metadata);
}

/** Reads `count` elements of a column's type from byte `at` of `view`, as physical values, into `out` from index `to`. */
function readElements(c: BinColumn, view: DataView, at: number, count: number, out: Writable, to: number, valid?: Uint8Array) {
  const { scale, zero } = c;
  const unscaled = scale === 1 && zero === 0;
  const floatOut = c.element instanceof Float32 || c.element instanceof Float64;
  const setNull = (i: number) => {
    out[to + i] = floatOut ? NaN : typeof out[0] === 'bigint' ? 0n : 0;
    if (valid) valid[(to + i) >> 3] &= ~(1 << ((to + i) & 7));
  };
  for (let i = 0; i < count; i++) {
    if (c.code === 'K') {
      const v = view.getBigInt64(at + 8 * i);
      if (v === c.tnull) setNull(i);
      // Exact where the type keeps 64 bits; the unsigned offset 2^63 is a flip of the sign bit.
      else out[to + i] = c.element instanceof Int64 ? v : c.element instanceof Uint64 ? BigInt.asUintN(64, v ^ (1n << 63n)) : Number(v) * scale + zero;
      continue;
    }
    let v: number;
    switch (c.code) {
      case 'B': v = view.getUint8(at + i); break;
      case 'I': v = view.getInt16(at + 2 * i); break;
      case 'J': v = view.getInt32(at + 4 * i); break;
      case 'E': case 'C': v = view.getFloat32(at + 4 * i); break;
      case 'D': case 'M': v = view.getFloat64(at + 8 * i); break;
      default: throw new Error(`column ${c.name}: ${c.code} is not numeric`);
    }
    if (c.tnull !== undefined && v === Number(c.tnull)) setNull(i);
    else out[to + i] = unscaled ? v : v * scale + zero;
  }
}

type Writable = { [i: number]: unknown; readonly length: number };

function typedFor(type: DataType, length: number): Writable {
  const T = (type as { ArrayType?: new (n: number) => Writable }).ArrayType;
  if (!T) throw new Error(`no array type for ${String(type)}`);
  return new T(length);
}

const text = (bytes: Uint8Array) => {
  let end = bytes.indexOf(0);
  if (end < 0) end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0x20) end--;
  return new TextDecoder('latin1').decode(bytes.subarray(0, end));
};

/** One column's Arrow data for `rows` rows of `rowBytes` bytes each in `bytes`; `heap` holds the variable-length arrays. */
export function binColumnData(c: BinColumn, bytes: Uint8Array, rowBytes: number, rows: number, heap: Uint8Array): Data {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const field = binField(c);
  if (c.variable) return variableData(c, view, rowBytes, rows, heap, field.type as List);
  const n = elements(c);
  if (c.code === 'A') {
    const strings: string[] = [];
    const length = c.repeat / Math.max(1, n);
    for (let r = 0; r < rows; r++) for (let k = 0; k < n; k++) strings.push(text(bytes.subarray(r * rowBytes + c.offset + k * length, r * rowBytes + c.offset + (k + 1) * length)));
    const data = utf8Data(strings);
    return n === 1 ? data : makeData({ type: field.type as FixedSizeList, length: rows, nullCount: 0, child: data });
  }
  if (c.code === 'L' || c.code === 'X') {
    const count = c.repeat;
    const bits = new Uint8Array(Math.ceil((rows * count) / 8));
    const valid = new Uint8Array(Math.ceil((rows * count) / 8)).fill(255);
    let nulls = 0;
    for (let r = 0; r < rows; r++) for (let k = 0; k < count; k++) {
      const i = r * count + k;
      const at = r * rowBytes + c.offset;
      const on = c.code === 'X' ? (bytes[at + (k >> 3)] >> (7 - (k & 7))) & 1 : bytes[at + k] === 0x54;
      if (on) bits[i >> 3] |= 1 << (i & 7);
      if (c.code === 'L' && bytes[at + k] !== 0x54 && bytes[at + k] !== 0x46) {
        valid[i >> 3] &= ~(1 << (i & 7));
        nulls++;
      }
    }
    const values = makeData({ type: new Bool(), length: rows * count, nullCount: count === 1 ? nulls : 0, data: bits, nullBitmap: count === 1 && nulls ? valid : undefined });
    return count === 1 && c.shape.length <= 1 ? values : makeData({ type: field.type as FixedSizeList, length: rows, nullCount: 0, child: values });
  }
  const scalar = n === 1 && c.shape.length <= 1;
  const out = typedFor(c.element, rows * n);
  const valid = scalar && c.tnull !== undefined && !(c.element instanceof Float64) ? new Uint8Array(Math.ceil(rows / 8)).fill(255) : undefined;
  for (let r = 0; r < rows; r++) readElements(c, view, r * rowBytes + c.offset, n, out, r * n, valid);
  let nullCount = 0;
  if (valid) for (let r = 0; r < rows; r++) if (!(valid[r >> 3] & (1 << (r & 7)))) nullCount++;
  const values = makeData({ type: c.element, length: rows * n, nullCount, data: out as never, nullBitmap: nullCount ? valid : undefined } as never) as Data;
  return scalar ? values : makeData({ type: field.type as FixedSizeList, length: rows, nullCount: 0, child: values });
}

function variableData(c: BinColumn, view: DataView, rowBytes: number, rows: number, heap: Uint8Array, type: List): Data {
  const heapView = new DataView(heap.buffer, heap.byteOffset, heap.byteLength);
  const size = sizes[c.code];
  const offsets = new Int32Array(rows + 1);
  const spans: [number, number][] = [];
  // Descriptors may all point at the same heap bytes: the arrays' total is bounded by the budget, not the heap.
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const at = r * rowBytes + c.offset;
    const count = c.variable === 'P' ? view.getUint32(at) : Number(view.getBigUint64(at));
    const start = c.variable === 'P' ? view.getUint32(at + 4) : Number(view.getBigUint64(at + 8));
    const bytes = c.code === 'X' ? Math.ceil(count / 8) : count * size;
    if (start + bytes > heap.length) throw new Error(`column ${c.name}, row ${r + 1}: its array (bytes ${start}-${start + bytes} of the heap) lies outside the ${heap.length}-byte heap`);
    spans.push([count, start]);
    total += count * (c.code === 'C' || c.code === 'M' ? 2 : 1);
    if (total > 2 ** 31 - 1) throw new Error(`column ${c.name}: its arrays hold more than 2^31 elements by row ${r + 1}`);
    offsets[r + 1] = total;
  }
  checkBudget(total * 8, `column ${c.name}'s variable-length arrays`);
  if (c.code === 'A' || c.code === 'L' || c.code === 'X') {
    throw new Error(`column ${c.name}: variable-length arrays of ${c.code} are not read yet`);
  }
  const values = typedFor(c.element, offsets[rows]);
  for (const [r, [count, start]] of spans.entries()) readElements(c, heapView, start, count * (c.code === 'C' || c.code === 'M' ? 2 : 1), values, offsets[r]);
  const child = makeData({ type: c.element, length: offsets[rows], nullCount: 0, data: values as never } as never) as Data;
  return makeData({ type, length: rows, nullCount: 0, valueOffsets: offsets, child });
}

function utf8Data(strings: string[]): Data<Utf8> {
  const encoder = new TextEncoder();
  const encoded = strings.map((s) => encoder.encode(s));
  const offsets = new Int32Array(strings.length + 1);
  encoded.forEach((e, i) => (offsets[i + 1] = offsets[i] + e.length));
  const data = new Uint8Array(offsets[strings.length]);
  encoded.forEach((e, i) => data.set(e, offsets[i]));
  return bytesColumn(new Utf8(), offsets, data, null, strings.length) as Data<Utf8>;
}
