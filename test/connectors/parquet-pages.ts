// A Parquet file written byte by byte, for the tests of page headers that lie: one required INT32
// column `x`, one row group, one PLAIN data page, whose header may declare any uncompressed size.
// Thrift compact protocol (https://github.com/apache/thrift/blob/master/doc/specs/thrift-compact-protocol.md).
import { gzipSync } from 'node:zlib';

const I32 = 5;
const I64 = 6;
const BINARY = 8;
const LIST = 9;
const STRUCT = 12;

type Value = { t: typeof I32 | typeof I64; v: number } | { t: typeof BINARY; v: string } | { t: typeof LIST; of: number; v: Value[] } | { t: typeof STRUCT; v: Fields };
/** A struct's fields by id. */
type Fields = [number, Value][];

const i32 = (v: number): Value => ({ t: I32, v });
const i64 = (v: number): Value => ({ t: I64, v });
const str = (v: string): Value => ({ t: BINARY, v });
const list = (of: number, v: Value[]): Value => ({ t: LIST, of, v });
const struct = (v: Fields): Value => ({ t: STRUCT, v });

function encode(fields: Fields, out: number[] = []): number[] {
  const varint = (n: bigint) => {
    for (; n >= 0x80n; n >>= 7n) out.push(Number(n & 0x7fn) | 0x80);
    out.push(Number(n));
  };
  const zigzag = (n: number) => varint(BigInt(n) >= 0n ? BigInt(n) << 1n : ((-BigInt(n)) << 1n) - 1n);
  const value = (x: Value) => {
    if (x.t === I32 || x.t === I64) zigzag(x.v);
    else if (x.t === BINARY) {
      const bytes = new TextEncoder().encode(x.v);
      varint(BigInt(bytes.length));
      out.push(...bytes);
    } else if (x.t === LIST) {
      out.push((x.v.length << 4) | x.of); // lists here have fewer than 15 items
      for (const item of x.v) value(item);
    } else if (x.t === STRUCT) encode(x.v, out);
  };
  let last = 0;
  for (const [id, x] of fields) {
    out.push(((id - last) << 4) | x.t);
    last = id;
    value(x);
  }
  out.push(0);
  return out;
}

/** `values` as a Parquet file whose data page header declares `declaredSize` uncompressed bytes (default: the truth). */
export function parquetWithPage(values: number[], { codec = 'none', declaredSize }: { codec?: 'none' | 'gzip'; declaredSize?: number } = {}): Uint8Array {
  const plain = new Uint8Array(Int32Array.from(values).buffer);
  const data = codec === 'gzip' ? new Uint8Array(gzipSync(plain)) : plain;
  const page = Uint8Array.from(encode([
    [1, i32(0)], // DATA_PAGE
    [2, i32(declaredSize ?? plain.byteLength)],
    [3, i32(data.byteLength)],
    [5, struct([[1, i32(values.length)], [2, i32(0)], [3, i32(3)], [4, i32(3)]])], // PLAIN values, RLE levels
  ]));
  const chunk = page.byteLength + data.byteLength;
  const footer = Uint8Array.from(encode([
    [1, i32(1)],
    [2, list(STRUCT, [struct([[4, str('schema')], [5, i32(1)]]), struct([[1, i32(1)], [3, i32(0)], [4, str('x')]])])], // INT32, REQUIRED
    [3, i64(values.length)],
    [4, list(STRUCT, [struct([
      [1, list(STRUCT, [struct([
        [2, i64(4)],
        [3, struct([
          [1, i32(1)], [2, list(I32, [i32(0)])], [3, list(BINARY, [str('x')])], [4, i32(codec === 'gzip' ? 2 : 0)],
          [5, i64(values.length)], [6, i64(page.byteLength + plain.byteLength)], [7, i64(chunk)], [9, i64(4)],
        ])],
      ])])],
      [2, i64(page.byteLength + plain.byteLength)],
      [3, i64(values.length)],
    ])])],
  ]));
  const magic = new TextEncoder().encode('PAR1');
  const out = new Uint8Array(4 + chunk + footer.byteLength + 8);
  out.set(magic, 0);
  out.set(page, 4);
  out.set(data, 4 + page.byteLength);
  out.set(footer, 4 + chunk);
  new DataView(out.buffer).setInt32(4 + chunk + footer.byteLength, footer.byteLength, true);
  out.set(magic, out.byteLength - 4);
  return out;
}
