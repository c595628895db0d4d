// sink.csv's format: record batches → CSV bytes, built directly into large byte blocks.
// Numbers as JS prints them (shortest round trip; -0 stays -0), int64 exactly, true/false,
// timestamps as ISO 8601 UTC with Z and milliseconds, date32 as YYYY-MM-DD, null as an empty field,
// an empty string as "" (so it reads back as an empty string, not a null); a field is quoted when
// it holds the delimiter, the quote, CR or LF, or starts or ends with a space; lists, structs and
// other nested values are JSON text, always quoted.
import { Type, type Data, type DataType, type RecordBatch, type Schema, type Timestamp, TimeUnit, type Vector } from 'apache-arrow';
import type { FormatWriter } from '../../src/io/file-sink.ts';
import type { OutputFile } from '../../src/io/output-file.ts';

const QUOTE = 34;
const LF = 10;
const CR = 13;
const SPACE = 32;
const BLOCK = 1 << 20;

/** A growable byte buffer handed to the file in blocks of about 1 MiB. */
class Bytes {
  buf = new Uint8Array(BLOCK * 2);
  length = 0;

  reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  byte(b: number): void {
    if (this.length === this.buf.length) this.reserve(1);
    this.buf[this.length++] = b;
  }

  /** A string of ASCII characters (numbers, dates). */
  ascii(text: string): void {
    this.reserve(text.length);
    const { buf } = this;
    let at = this.length;
    for (let i = 0; i < text.length; i++) buf[at++] = text.charCodeAt(i);
    this.length = at;
  }

  /** UTF-8 bytes, quoted and with quotes doubled when `quoted`. */
  bytes(src: Uint8Array, s: number, e: number, quoted: boolean): void {
    if (!quoted) {
      this.reserve(e - s);
      if (e - s < 32) for (let i = s; i < e; i++) this.buf[this.length++] = src[i];
      else {
        this.buf.set(src.subarray(s, e), this.length);
        this.length += e - s;
      }
      return;
    }
    this.reserve(2 * (e - s) + 2);
    const { buf } = this;
    let at = this.length;
    buf[at++] = QUOTE;
    for (let i = s; i < e; i++) {
      const c = src[i];
      if (c === QUOTE) buf[at++] = QUOTE;
      buf[at++] = c;
    }
    buf[at++] = QUOTE;
    this.length = at;
  }

  /** Takes the bytes written so far (the buffer then starts afresh: the file write keeps the old one). */
  take(): Uint8Array {
    const out = this.buf.subarray(0, this.length);
    this.buf = new Uint8Array(Math.max(BLOCK * 2, this.length));
    this.length = 0;
    return out;
  }
}

const encoder = new TextEncoder();

/** Whether text bytes need quotes: empty, or holding the delimiter, the quote, CR or LF, or spaces at an end. */
function needsQuotes(src: Uint8Array, s: number, e: number, delimiter: number): boolean {
  if (e === s || src[s] === SPACE || src[e - 1] === SPACE) return true;
  for (let i = s; i < e; i++) {
    const c = src[i];
    if (c === delimiter || c === QUOTE || c === LF || c === CR) return true;
  }
  return false;
}

function writeText(out: Bytes, text: string, delimiter: number, forceQuotes = false): void {
  const bytes = encoder.encode(text);
  out.bytes(bytes, 0, bytes.length, forceQuotes || needsQuotes(bytes, 0, bytes.length, delimiter));
}

/** Writes row `i` of one column (not null). */
type CellWriter = (out: Bytes, i: number) => void;

const jsonReplacer = (_key: string, value: unknown) =>
  typeof value === 'bigint' ? (Number.isSafeInteger(Number(value)) ? Number(value) : value.toString()) : value;

function formatFloat(x: number): string {
  return x === 0 && 1 / x < 0 ? '-0' : String(x);
}

function isoDate(days: number): string {
  return new Date(days * 86_400_000).toISOString().slice(0, 10);
}

/** The writer of one column's data; `vector` serves the generic cases. */
function cellWriter(data: Data, vector: Vector, delimiter: number): CellWriter {
  const type = data.type as DataType;
  const offset = data.offset;
  switch (type.typeId) {
    case Type.Float: {
      if ((type as unknown as { precision: number }).precision === 0) break; // float16: the generic path decodes it
      const values = data.values as Float64Array;
      return (out, i) => out.ascii(formatFloat(values[offset + i]));
    }
    case Type.Int: {
      const { bitWidth } = type as unknown as { bitWidth: number };
      const values = data.values as Int32Array;
      if (bitWidth < 64) return (out, i) => out.ascii(String(values[offset + i]));
      const big = data.values as BigInt64Array;
      const words = new Int32Array(big.buffer, big.byteOffset, big.length * 2);
      const signed = (type as unknown as { isSigned: boolean }).isSigned;
      return (out, i) => {
        const j = offset + i;
        const hi = words[2 * j + 1];
        // Within ±2^52 the two words make an exact double; beyond, BigInt prints it.
        if (hi >= -0x100000 && hi < 0x100000 && (signed || hi >= 0)) out.ascii(String(hi * 4294967296 + (words[2 * j] >>> 0)));
        else out.ascii(big[j].toString());
      };
    }
    case Type.Bool:
      return (out, i) => out.ascii(vector.get(i) ? 'true' : 'false');
    case Type.Timestamp: {
      const values = data.values as BigInt64Array;
      const unit = (type as Timestamp).unit;
      const divisor = unit === TimeUnit.MICROSECOND ? 1000n : 1_000_000n;
      return (out, i) => {
        const v = values[offset + i];
        let ms: number;
        if (unit === TimeUnit.MILLISECOND) ms = Number(v);
        else if (unit === TimeUnit.SECOND) ms = Number(v) * 1000;
        else ms = Number(v / divisor - (v % divisor < 0n ? 1n : 0n)); // floor division
        out.ascii(new Date(ms).toISOString());
      };
    }
    case Type.Date: {
      if ((type as unknown as { unit: number }).unit === 0) {
        const values = data.values as Int32Array;
        return (out, i) => out.ascii(isoDate(values[offset + i]));
      }
      const values = data.values as BigInt64Array;
      return (out, i) => out.ascii(isoDate(Math.floor(Number(values[offset + i]) / 86_400_000)));
    }
    case Type.Utf8:
    case Type.LargeUtf8: {
      const bytes = data.values as Uint8Array;
      const offsets = data.valueOffsets as Int32Array | BigInt64Array;
      const large = type.typeId === Type.LargeUtf8;
      return (out, i) => {
        const s = large ? Number(offsets[offset + i]) : (offsets[offset + i] as number);
        const e = large ? Number(offsets[offset + i + 1]) : (offsets[offset + i + 1] as number);
        out.bytes(bytes, s, e, needsQuotes(bytes, s, e, delimiter));
      };
    }
    case Type.Binary:
    case Type.LargeBinary:
      return (out, i) => out.ascii(Buffer.from(vector.get(i) as Uint8Array).toString('base64'));
  }
  // Everything else through Arrow's own getter: dictionaries, float16, lists, structs (JSON), ...
  return (out, i) => {
    const value = vector.get(i) as unknown;
    if (typeof value === 'string') writeText(out, value, delimiter);
    else if (typeof value === 'number') out.ascii(formatFloat(value));
    else if (typeof value === 'bigint' || typeof value === 'boolean') out.ascii(String(value));
    else writeText(out, JSON.stringify(value, jsonReplacer) ?? 'null', delimiter, true);
  };
}

export interface CsvWriteOptions {
  header: boolean;
  delimiter: string;
}

/** The FormatWriter of one CSV file. */
export function csvFormat(options: CsvWriteOptions) {
  const delimiter = options.delimiter.charCodeAt(0);
  return (file: OutputFile, schema: Schema): FormatWriter => {
    const out = new Bytes();
    if (options.header) {
      schema.fields.forEach((field, c) => {
        if (c > 0) out.byte(delimiter);
        writeText(out, field.name, delimiter);
      });
      out.byte(LF);
    }
    return {
      async write(batch: RecordBatch) {
        const columns = batch.schema.fields.length;
        const writers: CellWriter[] = [];
        const valid: ((i: number) => boolean)[] = [];
        for (let c = 0; c < columns; c++) {
          const vector = batch.getChildAt(c)!;
          const data = vector.data[0] as Data;
          writers.push(cellWriter(data, vector, delimiter));
          valid.push(data.nullCount > 0 ? (i) => data.getValid(i) : () => true);
        }
        const rows = batch.numRows;
        for (let i = 0; i < rows; i++) {
          for (let c = 0; c < columns; c++) {
            if (c > 0) out.byte(delimiter);
            if (valid[c](i)) writers[c](out, i);
          }
          out.byte(LF);
          if (out.length >= BLOCK) await file.write(out.take());
        }
      },
      async finish() {
        if (out.length > 0) await file.write(out.take());
      },
    };
  };
}
