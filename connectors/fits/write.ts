// Writing FITS: header cards in the fixed format (FITS 4.0 §4.2: values right-justified to column
// 30, strings quoted from column 11, long strings over CONTINUE cards), image HDUs from float
// tensors, binary tables from Arrow columns, and CHECKSUM/DATASUM on every HDU, so that astropy
// opens the file with verify('exception') and checksum=True.
import { DataType, Type, type Field, type FixedSizeList, type RecordBatch, type Schema } from 'apache-arrow';
import { onesComplementSum } from './checksum.ts';
import { BLOCK, CARD, type HeaderValue } from './header.ts';

export type Cards = [keyword: string, value: HeaderValue, comment?: string][];

/** Keywords the writer sets itself: never copied over from a `header` column. */
export const structural = /^(SIMPLE|BITPIX|NAXIS\d*|EXTEND|XTENSION|PCOUNT|GCOUNT|GROUPS|BSCALE|BZERO|BLANK|CHECKSUM|DATASUM|TFIELDS|THEAP|T(TYPE|FORM|UNIT|DIM|SCAL|ZERO|NULL|BCOL|DISP)\d+|Z[A-Z]+\d*|END)$/;

function formatNumber(v: number | bigint): string {
  if (typeof v === 'bigint' || (Number.isInteger(v) && Math.abs(v) < 1e15)) return String(v);
  const text = String(v).toUpperCase();
  return /[.E]/.test(text) ? text : `${text}.0`;
}

function card(keyword: string, value: HeaderValue, comment?: string): string[] {
  const key = keyword.length > 8 ? `HIERARCH ${keyword} = ` : `${keyword.padEnd(8)}= `;
  const note = (text: string) => (comment ? `${text} / ${comment}` : text);
  if (typeof value === 'string') {
    const escaped = value.replace(/'/g, "''");
    const room = CARD - key.length - 2;
    // Padded to column 30 before a comment, as astropy formats it: astropy re-formats the
    // CHECKSUM card when it verifies, so a different layout would fail its check.
    if (escaped.length <= room) return [note(`${key}${`'${escaped.padEnd(8)}'`.padEnd(20)}`).slice(0, CARD).padEnd(CARD)];
    // Long strings: pieces ending in '&', continued on CONTINUE cards (never splitting a '' pair).
    const pieces: string[] = [];
    let rest = escaped;
    let width = room - 1;
    while (rest.length > 0) {
      let take = Math.min(width, rest.length);
      if (take < rest.length && rest[take - 1] === "'" && rest[take] === "'") take--;
      pieces.push(rest.slice(0, take));
      rest = rest.slice(take);
      width = CARD - 10 - 2 - 1;
    }
    return pieces.map((p, i) => {
      const last = i === pieces.length - 1;
      const text = `${i === 0 ? key : 'CONTINUE  '}'${p}${last ? '' : '&'}'`;
      return (last ? note(text) : text).slice(0, CARD).padEnd(CARD);
    });
  }
  const text = value === null ? '' : typeof value === 'boolean' ? (value ? 'T' : 'F')
    : Array.isArray(value) ? `(${formatNumber(value[0])}, ${formatNumber(value[1])})` : formatNumber(value);
  return [note(`${key}${text.padStart(20)}`).slice(0, CARD).padEnd(CARD)];
}

/** Header bytes (with END, padded with blanks) from cards; COMMENT and HISTORY values are lists of lines. */
export function headerBytes(cards: Cards): Uint8Array {
  const lines: string[] = [];
  for (const [keyword, value, comment] of cards) {
    if (keyword === 'COMMENT' || keyword === 'HISTORY') {
      lines.push(`${keyword.padEnd(8)}${String(value ?? '')}`.slice(0, CARD).padEnd(CARD));
      continue;
    }
    if (typeof value === 'number' && !Number.isFinite(value)) continue; // no FITS form for NaN or infinity
    lines.push(...card(keyword, value, comment));
  }
  lines.push('END'.padEnd(CARD));
  const text = lines.join('');
  const bytes = new Uint8Array(Math.ceil(text.length / BLOCK) * BLOCK).fill(0x20);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i) & 0xff;
  return bytes;
}

/** The 16 characters encoding a checksum's complement (the checksum convention's ASCII encoding). */
export function encodeChecksum(sum: number): string {
  const value = ~sum >>> 0;
  // Punctuation is avoided by moving pairs apart, in the order of the convention's reference code
  // (astropy compares the encoded text, so the order matters, not only the sum).
  const exclude = [0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f, 0x40, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f, 0x60];
  const ascii = new Array<number>(16);
  for (let i = 0; i < 4; i++) {
    const byte = (value >>> (24 - 8 * i)) & 0xff;
    const quotient = Math.floor(byte / 4) + 0x30;
    const ch = [quotient + (byte % 4), quotient, quotient, quotient];
    for (let check = 1; check;) {
      check = 0;
      for (const x of exclude) {
        for (let j = 0; j < 4; j += 2) {
          if (ch[j] === x || ch[j + 1] === x) {
            ch[j]++;
            ch[j + 1]--;
            check++;
          }
        }
      }
    }
    for (let j = 0; j < 4; j++) ascii[4 * j + i] = ch[j];
  }
  // The convention rotates the 16 characters right by one.
  return String.fromCharCode(...ascii.map((_, i) => ascii[(i + 15) % 16]));
}

/** One whole HDU (header and data, padded), with CHECKSUM and DATASUM set. */
export function hduBytes(cards: Cards, data: Uint8Array): Uint8Array {
  const padded = new Uint8Array(Math.ceil(data.length / BLOCK) * BLOCK);
  padded.set(data);
  const dataSum = onesComplementSum(padded);
  const withSums: Cards = [...cards, ['CHECKSUM', '0000000000000000', 'HDU checksum'], ['DATASUM', String(dataSum), 'data unit checksum']];
  const draft = headerBytes(withSums);
  const checksum = encodeChecksum(onesComplementSum(draft, dataSum));
  const header = headerBytes([...cards, ['CHECKSUM', checksum, 'HDU checksum'], ['DATASUM', String(dataSum), 'data unit checksum']]);
  const out = new Uint8Array(header.length + padded.length);
  out.set(header);
  out.set(padded, header.length);
  return out;
}

/** An image HDU's cards and big-endian data from float values in row-major order with `shape`. */
export function imageHdu(values: Float32Array | Float64Array, shape: number[], primary: boolean, extra: Cards = []): Uint8Array {
  const bitpix = values instanceof Float32Array ? -32 : -64;
  const cards: Cards = [
    primary ? ['SIMPLE', true, 'conforms to FITS standard'] : ['XTENSION', 'IMAGE', 'image extension'],
    ['BITPIX', bitpix], ['NAXIS', shape.length],
    ...shape.slice().reverse().map((n, i): Cards[number] => [`NAXIS${i + 1}`, n]),
    ...(primary ? [['EXTEND', true] as Cards[number]] : [['PCOUNT', 0], ['GCOUNT', 1]] as Cards),
    ...extra.filter(([k]) => !structural.test(k)),
  ];
  const data = new Uint8Array(values.length * (bitpix === -32 ? 4 : 8));
  const view = new DataView(data.buffer);
  if (bitpix === -32) values.forEach((v, i) => view.setFloat32(4 * i, v));
  else values.forEach((v, i) => view.setFloat64(8 * i, v));
  return hduBytes(cards, data);
}

/** An empty primary HDU (before table extensions). */
export const emptyPrimary = () => hduBytes([['SIMPLE', true, 'conforms to FITS standard'], ['BITPIX', 8], ['NAXIS', 0], ['EXTEND', true]], new Uint8Array(0));

interface TableColumn {
  field: Field;
  code: string;
  repeat: number;
  size: number;
  zero?: number;
  tnull?: number;
  dim?: number[];
  put(view: DataView, at: number, value: unknown): void;
}

function numberColumn(type: DataType): { code: string; size: number; zero?: number; put: (v: DataView, at: number, x: unknown) => void } | undefined {
  const t = type as DataType & { bitWidth?: number; isSigned?: boolean; precision?: number };
  if (type.typeId === Type.Float) {
    return t.precision === 2 ? { code: 'D', size: 8, put: (v, at, x) => v.setFloat64(at, x === null ? NaN : Number(x)) }
      : { code: 'E', size: 4, put: (v, at, x) => v.setFloat32(at, x === null ? NaN : Number(x)) };
  }
  if (type.typeId !== Type.Int) return undefined;
  switch (`${t.isSigned ? 'i' : 'u'}${t.bitWidth}`) {
    case 'u8': return { code: 'B', size: 1, put: (v, at, x) => v.setUint8(at, Number(x ?? 0)) };
    case 'i8': return { code: 'B', size: 1, zero: -128, put: (v, at, x) => v.setUint8(at, Number(x ?? 0) + 128) };
    case 'i16': return { code: 'I', size: 2, put: (v, at, x) => v.setInt16(at, Number(x ?? -32768)) };
    case 'u16': return { code: 'I', size: 2, zero: 32768, put: (v, at, x) => v.setInt16(at, Number(x ?? 0) - 32768) };
    case 'i32': return { code: 'J', size: 4, put: (v, at, x) => v.setInt32(at, Number(x ?? -2147483648)) };
    case 'u32': return { code: 'J', size: 4, zero: 2147483648, put: (v, at, x) => v.setInt32(at, Number(x ?? 0) - 2147483648) };
    case 'i64': return { code: 'K', size: 8, put: (v, at, x) => v.setBigInt64(at, x === null ? -(2n ** 63n) : BigInt(x as bigint)) };
    default: return undefined;
  }
}

/** A binary table HDU holding every row of `batches`; throws naming a column FITS cannot hold. */
export function tableHdu(schema: Schema, batches: RecordBatch[], name?: string): Uint8Array {
  const rows = batches.reduce((n, b) => n + b.numRows, 0);
  const encoder = new TextEncoder();
  const columns: TableColumn[] = schema.fields.map((field) => {
    const type = field.type;
    if (type.typeId === Type.Utf8) {
      let width = 1;
      for (const b of batches) for (const v of b.getChild(field.name)!) width = Math.max(width, encoder.encode(String(v ?? '')).length);
      return { field, code: 'A', repeat: width, size: 1, put: (v, at, x) => new Uint8Array(v.buffer, v.byteOffset + at, width).set(encoder.encode(String(x ?? ''))) };
    }
    if (type.typeId === Type.Bool) return { field, code: 'L', repeat: 1, size: 1, put: (v, at, x) => v.setUint8(at, x === null ? 0 : x ? 0x54 : 0x46) };
    if (type.typeId === Type.FixedSizeList) {
      const list = type as FixedSizeList;
      const element = numberColumn(list.children[0].type);
      if (!element) throw new Error(`column '${field.name}': FITS tables cannot hold lists of ${String(list.children[0].type)}`);
      const meta = field.metadata.get('ARROW:extension:metadata');
      const dim = meta ? (JSON.parse(meta).shape as number[]) : undefined;
      return {
        field, code: element.code, repeat: list.listSize, size: element.size, zero: element.zero, dim: dim && dim.length > 1 ? dim : undefined,
        put: (v, at, x) => [...(x as Iterable<unknown>)].forEach((e, k) => element.put(v, at + k * element.size, e)),
      };
    }
    const scalar = numberColumn(type);
    if (!scalar) throw new Error(`column '${field.name}': FITS tables cannot hold ${String(type)} (numbers, booleans, strings and fixed-size lists of numbers can)`);
    const integerNull = scalar.code === 'I' && !scalar.zero ? -32768 : scalar.code === 'J' && !scalar.zero ? -2147483648 : undefined;
    return { field, code: scalar.code, repeat: 1, size: scalar.size, zero: scalar.zero, tnull: field.nullable ? integerNull : undefined, put: scalar.put };
  });
  const rowBytes = columns.reduce((n, c) => n + c.repeat * c.size, 0);
  const data = new Uint8Array(rowBytes * rows);
  const view = new DataView(data.buffer);
  let row = 0;
  for (const batch of batches) {
    const vectors = columns.map((c) => batch.getChild(c.field.name)!);
    for (let r = 0; r < batch.numRows; r++, row++) {
      let at = row * rowBytes;
      columns.forEach((c, k) => {
        c.put(view, at, vectors[k].get(r));
        at += c.repeat * c.size;
      });
    }
  }
  const cards: Cards = [
    ['XTENSION', 'BINTABLE', 'binary table extension'], ['BITPIX', 8], ['NAXIS', 2], ['NAXIS1', rowBytes], ['NAXIS2', rows],
    ['PCOUNT', 0], ['GCOUNT', 1], ['TFIELDS', columns.length],
  ];
  columns.forEach((c, i) => {
    const n = i + 1;
    cards.push([`TTYPE${n}`, c.field.name], [`TFORM${n}`, `${c.repeat}${c.code}`]);
    const unit = c.field.metadata.get('unit');
    if (unit) cards.push([`TUNIT${n}`, unit]);
    if (c.zero !== undefined) cards.push([`TSCAL${n}`, 1], [`TZERO${n}`, c.zero]);
    if (c.tnull !== undefined) cards.push([`TNULL${n}`, c.tnull]);
    if (c.dim) cards.push([`TDIM${n}`, `(${c.dim.slice().reverse().join(',')})`]);
  });
  if (name) cards.push(['EXTNAME', name]);
  return hduBytes(cards, data);
}
