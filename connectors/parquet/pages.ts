// Page headers checked before parquet-wasm decompresses a row group. parquet-wasm allocates what a
// page header declares (uncompressed_page_size) before it decompresses the page: a header that
// lies made it trap, or grow its memory by gigabytes. So a worker first walks the page headers of
// the column chunks it is about to read (a small read each; bodies skipped) and checks every
// declared size against the bytes that hold it, what its codec can expand them to, and the task's
// memory. The footer and page headers are Thrift compact protocol, read by a small reader here.
import type { ByteReader } from '../../src/io/byte-reader.ts';
import { checkTaskMemory } from '../../src/io/limits.ts';
import { InputError } from '../../src/workflow/errors.ts';

/** A Thrift struct: its fields by id (integers as numbers, binaries as bytes, lists as arrays). */
type Struct = Map<number, unknown>;

class Truncated extends Error {}

/** Reads Thrift compact protocol structs from `bytes`; Truncated when they run past its end. */
class CompactReader {
  pos = 0;

  constructor(private readonly bytes: Uint8Array) {}

  private byte(): number {
    if (this.pos >= this.bytes.byteLength) throw new Truncated();
    return this.bytes[this.pos++];
  }

  private varint(): bigint {
    let n = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      const b = this.byte();
      n |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return n;
    }
    throw new Error('a varint longer than 10 bytes');
  }

  private zigzag(): number {
    const n = this.varint();
    return Number((n >> 1n) ^ -(n & 1n));
  }

  private size(): number {
    const n = Number(this.varint());
    if (n > this.bytes.byteLength - this.pos) throw new Truncated(); // every element takes a byte at least
    return n;
  }

  private value(type: number, depth: number): unknown {
    switch (type) {
      case 1: return true;
      case 2: return false;
      case 3: return this.byte();
      case 4: case 5: case 6: return this.zigzag();
      case 7: this.skip(8); return 0;
      case 8: { const n = this.size(); this.skip(n); return this.bytes.subarray(this.pos - n, this.pos); }
      case 9: case 10: {
        const head = this.byte();
        const n = head >> 4 === 15 ? this.size() : head >> 4;
        const element = head & 15;
        return Array.from({ length: n }, () => (element === 1 || element === 2 ? this.byte() === 1 : this.value(element, depth)));
      }
      case 11: {
        const n = this.size();
        if (n > 0) {
          const kinds = this.byte();
          for (let i = 0; i < n; i++) {
            this.value(kinds >> 4, depth);
            this.value(kinds & 15, depth);
          }
        }
        return undefined;
      }
      case 12: return this.struct(depth + 1);
      default: throw new Error(`unknown Thrift type ${type}`);
    }
  }

  private skip(n: number) {
    if (this.pos + n > this.bytes.byteLength) throw new Truncated();
    this.pos += n;
  }

  struct(depth = 0): Struct {
    if (depth > 32) throw new Error('structs nested too deep');
    const fields: Struct = new Map();
    let id = 0;
    for (;;) {
      const head = this.byte();
      if (head === 0) return fields;
      id = head >> 4 ? id + (head >> 4) : this.zigzag();
      fields.set(id, this.value(head & 15, depth));
    }
  }
}

/** Per codec (the footer's number), how many times a page can expand at most, where that is bounded. */
const maxRatio: Record<number, number> = { 1: 32, 2: 1032, 4: 255, 6: 255 }; // snappy, gzip, lz4, lz4_raw
const codecNames = ['UNCOMPRESSED', 'SNAPPY', 'GZIP', 'BROTLI', 'LZ4', 'ZSTD', 'LZ4_RAW', 'LZO'];

interface ColumnChunk {
  column: string;
  codec: number;
  start: number;
  bytes: number;
}

// Per file (its identity: path, size and time, or an S3 object's ETag): its column chunks, as every row group of it needs them.
const footers = new Map<string, ColumnChunk[][]>();

/** The column chunks of every row group, from the footer of `bytes`. */
async function columnChunks(bytes: ByteReader): Promise<ColumnChunk[][]> {
  const { size, identity: key } = bytes;
  const known = footers.get(key);
  if (known) return known;
  const tail = await bytes.read(size - 8, 8, 'the footer length');
  const length = new DataView(tail.buffer, tail.byteOffset, 8).getUint32(0, true);
  const footer = await bytes.read(size - 8 - length, length, 'the footer');
  const meta = new CompactReader(footer).struct();
  const groups = ((meta.get(4) ?? []) as Struct[]).map((group) => ((group.get(1) ?? []) as Struct[]).map((chunk) => {
    const m = (chunk.get(3) ?? new Map()) as Struct;
    const path = (m.get(3) ?? []) as Uint8Array[];
    const data = m.get(9) as number;
    const dictionary = m.get(11) as number | undefined;
    return {
      column: path.length ? new TextDecoder().decode(path[0]) : '?',
      codec: m.get(4) as number,
      start: dictionary !== undefined && dictionary > 0 && dictionary < data ? dictionary : data,
      bytes: m.get(7) as number,
    };
  }));
  if (footers.size >= 8) footers.delete(footers.keys().next().value!);
  footers.set(key, groups);
  return groups;
}

/** The page header at `at`: its own length, and the sizes it declares. */
async function pageHeader(source: ByteReader, at: number, end: number): Promise<{ length: number; compressed: number; uncompressed: number }> {
  // Most headers take a few dozen bytes; statistics can make them longer.
  for (let window = 256; ; window *= 4) {
    const bytes = await source.read(at, Math.min(window, end - at), `the page header at byte ${at}`);
    const reader = new CompactReader(bytes);
    try {
      const header = reader.struct();
      return { length: reader.pos, uncompressed: header.get(2) as number, compressed: header.get(3) as number };
    } catch (error) {
      if (!(error instanceof Truncated) || bytes.byteLength === end - at) throw error;
    }
  }
}

/** columnChunks, with what is wrong with the footer said as an InputError. */
async function parsedChunks(bytes: ByteReader): Promise<ColumnChunk[][]> {
  try {
    return await columnChunks(bytes);
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(bytes.name, `corrupt footer: ${error instanceof Truncated ? 'it is cut short' : (error as Error).message}`);
  }
}

/**
 * Per row group, the bytes [start, end) that hold its column chunks (of `columns`, or all): what
 * a reader of one row group fetches from an S3 object, and no more.
 */
export async function rowGroupSpans(bytes: ByteReader, columns?: string[]): Promise<[number, number][]> {
  return (await parsedChunks(bytes)).map((chunks) => {
    const read = chunks.filter((c) => !columns || columns.includes(c.column));
    if (read.length === 0) return [0, 0];
    return [Math.min(...read.map((c) => c.start)), Math.max(...read.map((c) => c.start + c.bytes))];
  });
}

/** Checks the page headers of row group `rowGroup` (of `columns`, or all) before it is read. */
export async function checkPages(bytes: ByteReader, rowGroup: number, columns?: string[]): Promise<void> {
  const { size, name: file } = bytes;
  const chunks = (await parsedChunks(bytes))[rowGroup] ?? [];
  for (const c of chunks) {
    if (columns && !columns.includes(c.column)) continue;
    const where = `row group ${rowGroup}, column '${c.column}'`;
    const end = c.start + c.bytes;
    if (!(Number.isSafeInteger(c.start) && c.start >= 4 && c.bytes >= 0 && end <= size)) {
      throw new InputError(file, `${where}: the footer puts it at bytes ${c.start}-${end}, outside the file's ${size}`);
    }
    for (let at = c.start; at < end;) {
      let page;
      try {
        page = await pageHeader(bytes, at, end);
      } catch (error) {
        if (error instanceof InputError) throw error;
        throw new InputError(file, `${where}: corrupt page header at byte ${at}${error instanceof Truncated ? ' (cut short)' : `: ${(error as Error).message}`}`);
      }
      const { length, compressed, uncompressed } = page;
      const body = at + length;
      if (!(compressed >= 0 && body + compressed <= end)) {
        throw new InputError(file, `${where}: the page at byte ${at} says it has ${compressed} bytes, past the column chunk's end at byte ${end}`);
      }
      if (!(uncompressed >= 0)) throw new InputError(file, `${where}: the page at byte ${at} declares ${uncompressed} uncompressed bytes`);
      const ratio = maxRatio[c.codec];
      if (ratio && uncompressed > compressed * ratio + 64) {
        throw new InputError(file, `${where}: the page at byte ${at} declares ${uncompressed} uncompressed bytes, `
          + `more than its ${compressed} bytes of ${codecNames[c.codec] ?? `codec ${c.codec}`} can hold`);
      }
      checkTaskMemory(file, `${where}: the page at byte ${at} uncompressed`, uncompressed);
      at = body + compressed;
    }
  }
}
