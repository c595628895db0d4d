// Headers that claim sizes their files cannot back: each read ends quickly in one InputError
// naming the file and the cause, with the process's peak RSS under 1 GB; never a hang, an aborted
// process or a worker out of memory. Arrow IPC LZ4 buffers that expand past what they declare or
// declare more than their frame can hold, a ZSTD buffer declaring 1 TiB, a 2.5 GiB record batch,
// Parquet pages declaring gigabytes, and chunk sizes of 2 GiB or more. Reads run in a worker
// thread with a generous time limit (fuzz-pool.ts); the big files are sparse (truncate: no disk).
import { closeSync, openSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { CompressionType, Field, Int32, Schema, tableFromArrays, type RecordBatch } from 'apache-arrow';
import { BufferRegion, FieldNode, Message, RecordBatch as BatchHeader } from 'apache-arrow/ipc/metadata/message';
import { afterAll, describe, expect, test } from 'vitest';
import { arrowSource } from '../../connectors/arrow-ipc/source.ts';
import { csvSource } from '../../connectors/csv/source.ts';
import { duckdb, scratchDir } from '../helpers.ts';
import { lz4Frame, writeCompressed } from './arrow-compressed.ts';
import { parquetWithPage } from './parquet-pages.ts';
import { FuzzWorker, type Verdict } from './fuzz-pool.ts';

const LIMIT_MS = 30_000;
const GB = 1e9;
const GiB = 1024 ** 3;
const dir = scratchDir('quiver-hostile-');
const pool = new FuzzWorker(60_000);
afterAll(() => pool.close());

const read = (reader: string, params: Record<string, unknown>) => pool.read({ reader, params, baseDir: dir }, LIMIT_MS);

/** The verdict is one InputError whose message matches `message`, and memory stayed low. */
function expectInputError(verdict: Verdict, message: RegExp) {
  const text = JSON.stringify(verdict).slice(0, 600);
  expect(verdict, text).toMatchObject({ ok: false, name: 'InputError' });
  expect('message' in verdict && verdict.message, text).toMatch(message);
  expect(verdict.peakRss, text).toBeLessThan(GB);
  console.log(`${'message' in verdict ? verdict.message.slice(0, 110) : ''}… (peak RSS of the process ${(verdict.peakRss / 1e6).toFixed(0)} MB)`);
}

/** A frame framing `meta` as an IPC message (continuation marker, padded length). */
function framed(meta: Uint8Array): Uint8Array {
  const padded = (meta.byteLength + 7) & ~7;
  const out = new Uint8Array(8 + padded);
  new DataView(out.buffer).setInt32(0, -1, true);
  new DataView(out.buffer).setInt32(4, padded, true);
  out.set(meta, 8);
  return out;
}

/** `n` rows of one int32 column, all 7: its values compress well. */
const ints = (n: number): RecordBatch => tableFromArrays({ x: new Int32Array(n).fill(7) }).batches[0];

/** Sets the first 8-aligned int64 of `bytes` equal to `from` (a buffer's length prefix) to `to`. */
function setPrefix(bytes: Uint8Array, from: bigint, to: bigint): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 0; at + 8 <= bytes.byteLength; at += 8) {
    if (view.getBigInt64(at, true) === from) {
      view.setBigInt64(at, to, true);
      return bytes;
    }
  }
  throw new Error(`no length prefix ${from}`);
}

/** An LZ4 block of one literal and matches of offset 1, `matchBytes` of 0xff runs: ~255 × its size. */
function lz4Bomb(blocks: number, blockBytes = 4 * 1024 * 1024): Uint8Array {
  const block = new Uint8Array(blockBytes).fill(0xff);
  block.set([0x1f, 0x61, 0x01, 0x00]); // 1 literal 'a', a match at offset 1 of 15 + the 0xff bytes after
  block.set([0x00, 0x10, 0x61], blockBytes - 3); // the match length ends; a last sequence of 1 literal
  const header = [0x04, 0x22, 0x4d, 0x18, 0x60, 0x70, 0x73];
  const out = new Uint8Array(header.length + blocks * (4 + blockBytes) + 4);
  out.set(header);
  for (let k = 0; k < blocks; k++) {
    const at = header.length + k * (4 + blockBytes);
    new DataView(out.buffer).setUint32(at, blockBytes, true);
    out.set(block, at + 4);
  }
  return out;
}

describe('Arrow IPC', () => {
  test('an LZ4 buffer that expands to 2 GiB while it declares 16 MiB: stopped at 16 MiB', async () => {
    // The validity buffer is empty: the values (16 MiB) are the one buffer compressed.
    writeFileSync(join(dir, 'bomb.arrow'), writeCompressed([ints(4 * 1024 * 1024)], () => lz4Bomb(2)));
    expectInputError(await read('source.arrow', { path: 'bomb.arrow' }),
      /^bomb\.arrow: corrupt record batch in bytes \d+-\d+: LZ4 frame holds more than the 16777216 bytes its buffer declares$/);
  });

  test('an LZ4 buffer declaring more than its frame can hold, or more than a task may hold: refused before allocating', async () => {
    writeFileSync(join(dir, 'declares-1tib.arrow'), setPrefix(writeCompressed([ints(1000)], lz4Frame), 4000n, 1n << 40n));
    expectInputError(await read('source.arrow', { path: 'declares-1tib.arrow' }),
      /^declares-1tib\.arrow: corrupt compressed buffer 1: it declares 1099511627776 bytes, more than its \d+-byte LZ4 frame can hold$/);
    // A 16 MiB frame can hold 3 GiB (within LZ4's ratio), more than a task may hold.
    writeFileSync(join(dir, 'declares-3gib.arrow'), setPrefix(writeCompressed([ints(8 * 1024 * 1024)], () => lz4Bomb(4)), 32n * 1024n * 1024n, 3n * BigInt(GiB)));
    expectInputError(await read('source.arrow', { path: 'declares-3gib.arrow' }),
      /^declares-3gib\.arrow: decompressing the record batches of one chunk: 3221225472 bytes, more than the \d+ bytes one task may hold/);
  });

  test('a ZSTD buffer declaring 1 TiB: the codec is refused before anything is decompressed', async () => {
    const bytes = setPrefix(writeCompressed([ints(1000)], () => Uint8Array.of(0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0), { type: CompressionType.ZSTD }), 4000n, 1n << 40n);
    writeFileSync(join(dir, 'zstd.arrow'), bytes);
    expectInputError(await read('source.arrow', { path: 'zstd.arrow' }),
      /^zstd\.arrow: its record batches are compressed with ZSTD, which quiver cannot decompress/);
  });

  test('a record batch of 2.5 GiB (a sparse stream): refused, not read with one 2.5 GiB fs.read that aborts Node', async () => {
    const schema = new Schema([new Field('x', new Int32(), false)]);
    const rows = (2.5 * GiB) / 4;
    const header = new BatchHeader(rows, [new FieldNode(rows, 0)], [new BufferRegion(0, 0), new BufferRegion(0, 2.5 * GiB)], null);
    const schemaMessage = framed(Message.encode(Message.from(schema)));
    const batchMessage = framed(Message.encode(Message.from(header, 2.5 * GiB)));
    const path = join(dir, 'huge-batch.arrows');
    const fd = openSync(path, 'w');
    writeSync(fd, schemaMessage);
    writeSync(fd, batchMessage);
    closeSync(fd);
    truncateSync(path, schemaMessage.byteLength + batchMessage.byteLength + 2.5 * GiB);
    expectInputError(await read('source.arrow', { path: 'huge-batch.arrows' }),
      /^huge-batch\.arrows: the messages at byte \d+: 26843\d{5} bytes, more than the \d+ bytes one task may hold/);
  });
});

describe('Parquet', () => {
  const values = Array.from({ length: 1000 }, (_, i) => i * 3);

  test('the hand-written file reads as DuckDB reads it: the page walk accepts a sound file', async () => {
    for (const codec of ['none', 'gzip'] as const) {
      writeFileSync(join(dir, `sound-${codec}.parquet`), parquetWithPage(values, { codec }));
      expect(await duckdb(`SELECT count(*), sum(x) FROM '${join(dir, `sound-${codec}.parquet`)}'`)).toEqual([[1000n, 1498500n]]);
      const verdict = await read('source.parquet', { path: `sound-${codec}.parquet` });
      expect(verdict, codec).toMatchObject({ ok: true, rows: 1000 });
    }
  });

  test('DuckDB files in every codec, with dictionary pages: the page walk accepts them', async () => {
    for (const codec of ['uncompressed', 'snappy', 'gzip', 'zstd', 'brotli', 'lz4']) {
      const path = join(dir, `duck-${codec}.parquet`);
      await duckdb(`COPY (SELECT i AS id, 'w' || (i % 13) AS s, i / 3 AS x FROM range(0, 50000) t(i))
        TO '${path}' (FORMAT PARQUET, COMPRESSION ${codec}, ROW_GROUP_SIZE 20000)`);
      const verdict = await read('source.parquet', { path: `duck-${codec}.parquet` });
      expect(verdict, codec).toMatchObject({ ok: true, rows: 50000 });
    }
  });

  test('a GZIP page declaring 2 GiB uncompressed: more than its bytes can hold, refused before parquet-wasm allocates', async () => {
    writeFileSync(join(dir, 'page-gzip.parquet'), parquetWithPage(values, { codec: 'gzip', declaredSize: 2 ** 31 - 1 }));
    expectInputError(await read('source.parquet', { path: 'page-gzip.parquet' }),
      /^page-gzip\.parquet: row group 0, column 'x': the page at byte 4 declares 2147483647 uncompressed bytes, more than its \d+ bytes of GZIP can hold$/);
  });

  test('an uncompressed page declaring 1.5 GiB, and one declaring a negative size: refused', async () => {
    writeFileSync(join(dir, 'page-big.parquet'), parquetWithPage(values, { declaredSize: 1.5 * GiB }));
    expectInputError(await read('source.parquet', { path: 'page-big.parquet' }),
      /^page-big\.parquet: row group 0, column 'x': the page at byte 4 uncompressed: 1610612736 bytes, more than the \d+ bytes one task may hold/);
    writeFileSync(join(dir, 'page-negative.parquet'), parquetWithPage(values, { declaredSize: -5 }));
    expectInputError(await read('source.parquet', { path: 'page-negative.parquet' }),
      /^page-negative\.parquet: row group 0, column 'x': the page at byte 4 declares -5 uncompressed bytes$/);
  });
});

describe('chunk sizes of 2 GiB or more', () => {
  test('chunkBytes of 2.5 GiB: refused when the params are checked, before any file is opened', () => {
    for (const stage of [csvSource, arrowSource]) {
      const parsed = stage.params.safeParse({ path: 'big.csv', chunkBytes: 2.5 * GiB });
      expect(parsed.success, stage.name).toBe(false);
      expect(parsed.error!.issues[0].message, stage.name).toBe('must be at most 1073741824 (1 GiB): a worker holds a chunk in memory');
    }
  });

  test('a 2.5 GiB CSV file read in its default chunks: an InputError once a record is longer than any can be, not a 2.5 GiB read', async () => {
    const path = join(dir, 'big.csv');
    writeFileSync(path, 'a,b\n1,2\n');
    truncateSync(path, 2.5 * GiB); // then 2.5 GiB of NUL bytes and no line end
    expectInputError(await read('source.csv', { path: 'big.csv' }), /big\.csv:3: a record longer than \d+ bytes starts here/);
  });
});
