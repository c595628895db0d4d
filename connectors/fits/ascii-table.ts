// ASCII tables (FITS 4.0 §7.2): each row NAXIS1 characters, column n starting at character TBCOLn
// with TFORMn Aw (text), Iw (integer), Fw.d / Ew.d / Dw.d (reals; a D exponent reads as E). An
// all-blank field or one equal to TNULLn is null; TSCAL/TZERO give physical values (float64).
import { Field, Float64, Int64, makeData, Utf8, vectorFromArray, type Data, type DataType } from 'apache-arrow';
import type { FitsHeader } from './header.ts';

export interface AsciiColumn {
  name: string;
  start: number;
  width: number;
  code: 'A' | 'I' | 'F' | 'E' | 'D';
  scale: number;
  zero: number;
  tnull?: string;
  unit?: string;
  type: DataType;
}

export function asciiColumns(header: FitsHeader): AsciiColumn[] {
  return Array.from({ length: header.integer('TFIELDS') }, (_, i) => {
    const n = i + 1;
    const tform = header.string(`TFORM${n}`) ?? '';
    const m = /^\s*([AIFED])(\d+)(?:\.\d+)?\s*$/.exec(tform);
    if (!m) throw new Error(`column ${n}: TFORM '${tform}' is not an ASCII table format (Aw, Iw, Fw.d, Ew.d, Dw.d)`);
    const code = m[1] as AsciiColumn['code'];
    const scale = header.number(`TSCAL${n}`, 1);
    const zero = header.number(`TZERO${n}`, 0);
    const type = code === 'A' ? new Utf8() : code === 'I' && scale === 1 && zero === 0 ? new Int64() : new Float64();
    return {
      name: header.string(`TTYPE${n}`)?.trim() || `col${n}`, start: header.integer(`TBCOL${n}`) - 1, width: Number(m[2]), code, scale, zero,
      tnull: header.string(`TNULL${n}`), unit: header.string(`TUNIT${n}`)?.trim() || undefined, type,
    };
  });
}

export const asciiField = (c: AsciiColumn) => new Field(c.name, c.type, c.code !== 'A', c.unit ? new Map([['unit', c.unit]]) : undefined);

/** One column's data for `rows` rows of `rowBytes` characters. */
export function asciiColumnData(c: AsciiColumn, bytes: Uint8Array, rowBytes: number, rows: number): Data {
  const decoder = new TextDecoder('latin1');
  const values: (string | number | bigint | null)[] = [];
  for (let r = 0; r < rows; r++) {
    const raw = decoder.decode(bytes.subarray(r * rowBytes + c.start, r * rowBytes + c.start + c.width));
    if (c.code === 'A') {
      values.push(raw.trimEnd());
      continue;
    }
    const field = raw.trim();
    if (field === '' || (c.tnull !== undefined && field === c.tnull.trim())) {
      values.push(null);
      continue;
    }
    const number = Number(field.replace(/[dD]/, 'E'));
    if (Number.isNaN(number)) throw new Error(`column ${c.name}, row ${r + 1}: '${field}' is not a number`);
    values.push(c.type instanceof Int64 ? BigInt(field) : number * c.scale + c.zero);
  }
  if (c.type instanceof Float64) {
    const valid = new Uint8Array(Math.ceil(rows / 8));
    let nulls = 0;
    const data = Float64Array.from(values, (v, i) => {
      if (v === null) {
        nulls++;
        return NaN;
      }
      valid[i >> 3] |= 1 << (i & 7);
      return v as number;
    });
    return makeData({ type: new Float64(), length: rows, nullCount: nulls, data, nullBitmap: nulls ? valid : undefined });
  }
  return vectorFromArray(values, c.type).data[0];
}
