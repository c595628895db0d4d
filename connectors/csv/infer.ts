// Type inference over a sample (the first file's first ~1 MiB / 10,000 rows). Per column, over its
// non-null values: all true/false → bool; all matching `timestampFormat` → timestamp; all integers
// within int64 → int64; all decimal numbers (or NaN/inf spellings) → float64; all ISO 8601 dates or
// datetimes → timestamp[ms, UTC]; otherwise (or with no values at all) utf8.
import { Bool, Float64, Int64, TimeUnit, Timestamp, Utf8, type DataType } from 'apache-arrow';
import { BIG, isNaNSpelling, parseBigInteger, parseBool, parseFloat64, parseInteger } from './numbers.ts';
import { parseIso, type TimestampFormat, type ZoneConverter } from './timestamps.ts';
import { ESCAPED, FieldTable, SPACE, unescape } from './tokenize.ts';

export const timestampType = () => new Timestamp(TimeUnit.MILLISECOND, 'UTC');

export interface InferOptions {
  quote: number;
  nullValues: string[];
  format?: TimestampFormat;
  zone: ZoneConverter;
}

export function inferType(buf: Uint8Array, table: FieldTable, column: number, options: InferOptions): DataType {
  const { quote, format, zone } = options;
  const encoder = new TextEncoder();
  const nulls = options.nullValues.map((v) => encoder.encode(v));
  let canBool = true, canFormat = format !== undefined, canInt = true, canFloat = true, canIso = true;
  let values = 0;
  const scratch = new Uint8Array(256);
  for (let r = 0, k = column; r < table.rows; r++, k += table.columns) {
    let b = buf;
    let s = table.starts[k];
    let e = table.ends[k];
    if (table.kinds[k] === ESCAPED) {
      b = e - s <= scratch.length ? scratch : new Uint8Array(e - s);
      e = unescape(buf, s, e, quote, b, 0);
      s = 0;
    }
    while (s < e && b[s] === SPACE) s++;
    while (e > s && b[e - 1] === SPACE) e--;
    if (nulls.some((v) => v.length === e - s && v.every((byte, i) => b[s + i] === byte))) continue;
    values++;
    if (canBool && parseBool(b, s, e, true) < 0) canBool = false;
    if (canFormat && !format!.parse(b, s, e, zone)) canFormat = false;
    if (canInt) {
      const v = parseInteger(b, s, e);
      if (v !== v) canInt = false;
      else if (v === BIG) {
        let text = '';
        for (let i = s; i < e; i++) text += String.fromCharCode(b[i]);
        if (parseBigInteger(text) === undefined) canInt = false;
      }
    }
    if (canFloat) {
      const v = parseFloat64(b, s, e);
      if (v !== v && !isNaNSpelling(b, s, e)) canFloat = false;
    }
    if (canIso && !parseIso(b, s, e, zone)) canIso = false;
    if (!canBool && !canFormat && !canInt && !canFloat && !canIso) break;
  }
  if (values === 0) return new Utf8();
  if (canBool) return new Bool();
  if (canFormat) return timestampType();
  if (canInt) return new Int64();
  if (canFloat) return new Float64();
  if (canIso) return timestampType();
  return new Utf8();
}
