// source.arrow and sink.arrow: both IPC formats, detected from the bytes; chunked reading gives
// the rows whole-file reading gives (dictionaries, replacements and deltas included); several
// files; compressed bodies; corrupt files; and a writer that streams and that other readers read.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CompressionType, Data, Dictionary, Field, Float64, Int32, List, RecordBatch, RecordBatchFileWriter, RecordBatchStreamWriter,
  Schema, Struct, TimeUnit, Timestamp, Utf8, compressionRegistry, makeBuilder, makeData, tableFromIPC, vectorFromArray, type Vector,
} from 'apache-arrow';
import * as pw from 'parquet-wasm';
import { describe, expect, test } from 'vitest';
import { arrowSource } from '../../../connectors/arrow-ipc/source.ts';
import { arrowSink } from '../../../connectors/arrow-ipc/sink.ts';
import { InputError } from '../../../src/workflow/errors.ts';
import type { SinkStage, SourceStage } from '../../../src/workflow/stage.ts';
import { duckdb, scratchDir } from '../../helpers.ts';
import * as harness from '../stage-harness.ts';
import { writeCompressed } from '../arrow-compressed.ts';

const dir = scratchDir('quiver-arrow-');

const readSource = (stage: SourceStage, params: unknown, baseDir = dir) => harness.readSource(stage, params, baseDir);
const writeSink = (stage: SinkStage, params: unknown, schema: Schema, partitions: RecordBatch[][], outDir: string) =>
  harness.writeSink(stage, params, schema, partitions, outDir, 'arrow');

const json = (value: unknown) => JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v));
const rowsOf = (batches: RecordBatch[]) => batches.flatMap((b) => b.toArray().map((row) => json(row.toJSON())));

// A schema with a dictionary column, nulls, timestamps and lists.
const catType = new Dictionary(new Utf8(), new Int32(), 7);
const schema = new Schema([
  new Field('id', new Int32(), false),
  new Field('x', new Float64(), true),
  new Field('s', new Utf8(), true),
  new Field('cat', catType, true),
  new Field('ts', new Timestamp(TimeUnit.MILLISECOND, 'UTC'), true),
  new Field('l', new List(new Field('item', new Float64(), true)), true),
]);

const one = <T extends import('apache-arrow').DataType>(v: Vector<T>): Data<T> => {
  expect(v.data).toHaveLength(1);
  return v.data[0];
};

function makeBatch(start: number, rows: number, dictionary: Vector<Utf8>, dictionarySize = dictionary.length): RecordBatch {
  const ids = Array.from({ length: rows }, (_, i) => start + i);
  const children = [
    one(vectorFromArray(Int32Array.from(ids))),
    one(vectorFromArray(ids.map((i) => (i % 4 === 0 ? null : i / 8)), new Float64())),
    one(vectorFromArray(ids.map((i) => (i % 5 === 0 ? null : `row ${i} ${'é'.repeat(i % 3)}`)), new Utf8())),
    makeData({ type: catType, length: rows, nullCount: 0, data: Int32Array.from(ids, (i) => i % dictionarySize), dictionary }),
    one(vectorFromArray(ids.map((i) => (i % 6 === 0 ? null : 1_700_000_000_000 + i * 1000)), new Timestamp(TimeUnit.MILLISECOND, 'UTC'))),
    one(vectorFromArray(ids.map((i) => (i % 7 === 0 ? null : Array.from({ length: i % 4 }, (_, k) => i + k / 10))), schema.fields[5].type)),
  ];
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: rows, nullCount: 0, children: children as Data[] }));
}

const emptyBatch = (s: Schema) => new RecordBatch(s, makeData({
  type: new Struct(s.fields), length: 0, nullCount: 0, children: s.fields.map((f) => makeBuilder({ type: f.type }).finish().flush()),
}));

const colours = vectorFromArray(['red', 'green', 'blue'], new Utf8());
const fiveBatches = Array.from({ length: 5 }, (_, k) => makeBatch(k * 1000, 1000, colours));

describe('source.arrow', () => {
  test('file and stream formats, read whole or in chunks, give the same rows', async () => {
    const expected = rowsOf(fiveBatches);
    writeFileSync(join(dir, 't.arrow'), RecordBatchFileWriter.writeAll(fiveBatches).toUint8Array(true));
    writeFileSync(join(dir, 't.arrows'), RecordBatchStreamWriter.writeAll(fiveBatches).toUint8Array(true));
    writeFileSync(join(dir, 'legacy.ipc'), new RecordBatchStreamWriter({ writeLegacyIpcFormat: true }).writeAll(fiveBatches).toUint8Array(true));
    expect(readFileSync(join(dir, 'legacy.ipc')).readInt32LE(0)).not.toBe(-1); // really the pre-0.15 framing
    for (const file of ['t.arrow', 't.arrows', 'legacy.ipc']) {
      const whole = await readSource(arrowSource, { path: file });
      expect(whole.partitions[0].chunks, file).toBe(1);
      expect(rowsOf(whole.partitions[0].batches), file).toEqual(expected);
      expect(whole.schema.fields.map((f) => `${f.name}: ${f.type}`)).toEqual(schema.fields.map((f) => `${f.name}: ${f.type}`));
      const perBatch = await readSource(arrowSource, { path: file, chunkBytes: 1 });
      expect(perBatch.partitions[0].chunks, file).toBe(5);
      expect(rowsOf(perBatch.partitions[0].batches), file).toEqual(expected);
      const batchBytes = statSync(join(dir, file)).size / 5;
      const pairs = await readSource(arrowSource, { path: file, chunkBytes: Math.floor(batchBytes * 1.5) });
      expect(pairs.partitions[0].chunks, file).toBe(3);
      expect(rowsOf(pairs.partitions[0].batches), file).toEqual(expected);
    }
  });

  test('dictionary replacements and deltas reach every chunk that needs them', async () => {
    const ab = vectorFromArray(['a', 'b'], new Utf8());
    const abc = ab.concat(vectorFromArray(['c'], new Utf8())); // shares ab's first chunk: written as a delta
    const abcd = abc.concat(vectorFromArray(['d'], new Utf8()));
    const other = vectorFromArray(['x', 'y', 'z', 'w'], new Utf8()); // another dictionary: a replacement
    const deltas = [makeBatch(0, 10, ab), makeBatch(10, 10, abc), makeBatch(20, 10, abc), makeBatch(30, 10, abcd)];
    const replaced = [...deltas, makeBatch(40, 10, other), makeBatch(50, 10, abcd.slice(0, 2))];
    const cases: [string, Uint8Array, RecordBatch[]][] = [
      ['replaced.arrows', RecordBatchStreamWriter.writeAll(replaced).toUint8Array(true), replaced],
      ['deltas.arrows', RecordBatchStreamWriter.writeAll(deltas).toUint8Array(true), deltas],
      ['deltas.arrow', RecordBatchFileWriter.writeAll(deltas).toUint8Array(true), deltas],
    ];
    for (const [name, bytes, batches] of cases) {
      writeFileSync(join(dir, name), bytes);
      const expected = rowsOf(batches);
      expect(rowsOf(tableFromIPC(bytes).batches), name).toEqual(expected); // the reference reader agrees
      for (const chunkBytes of [1, 2000, 1 << 30]) {
        const { partitions } = await readSource(arrowSource, { path: name, chunkBytes });
        expect(rowsOf(partitions[0].batches), `${name} ${chunkBytes}`).toEqual(expected);
      }
    }
  });

  test('several files: a glob, one partition per file in path order, formats mixed; schemas must agree', async () => {
    writeFileSync(join(dir, 'many-2.arrows'), RecordBatchStreamWriter.writeAll([fiveBatches[2]]).toUint8Array(true));
    writeFileSync(join(dir, 'many-0.arrow'), RecordBatchFileWriter.writeAll([fiveBatches[0]]).toUint8Array(true));
    writeFileSync(join(dir, 'many-1.feather'), RecordBatchFileWriter.writeAll([fiveBatches[1]]).toUint8Array(true));
    const { partitions } = await readSource(arrowSource, { path: 'many-*' });
    expect(partitions.map((p) => p.key)).toEqual(['many-0.arrow', 'many-1.feather', 'many-2.arrows']);
    expect(partitions.map((p) => rowsOf(p.batches))).toEqual([0, 1, 2].map((k) => rowsOf([fiveBatches[k]])));

    const other = new Schema([schema.fields[0], new Field('x', new Int32(), true)]);
    const bad = new RecordBatch(other, makeData({ type: new Struct(other.fields), length: 1, nullCount: 0, children: [
      makeData({ type: new Int32(), length: 1, data: Int32Array.of(1) }), makeData({ type: new Int32(), length: 1, data: Int32Array.of(2) }),
    ] }));
    writeFileSync(join(dir, 'odd-0.arrow'), RecordBatchFileWriter.writeAll([fiveBatches[0]]).toUint8Array(true));
    writeFileSync(join(dir, 'odd-1.arrow'), RecordBatchFileWriter.writeAll([bad]).toUint8Array(true));
    const err = await readSource(arrowSource, { path: 'odd-*.arrow' }).catch((e) => e);
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toBe("odd-1.arrow: column 'x' is int32, but float64 in odd-0.arrow");
    const narrow = new Schema(schema.fields.map((f) => (f.name === 'cat' ? new Field('cat', new Dictionary(new Utf8(), new Int32(), 9), true) : f.name === 'x' ? new Field('x', new Int32(), true) : f)));
    const wrongType = emptyBatch(narrow);
    writeFileSync(join(dir, 'odd-2.arrows'), RecordBatchStreamWriter.writeAll([wrongType]).toUint8Array(true));
    await expect(readSource(arrowSource, { path: 'odd-[02]*' })).rejects.toThrow("odd-2.arrows: column 'x' is int32, but float64 in odd-0.arrow");
    const fewer = new Schema(schema.fields.filter((f) => f.name !== 's'));
    const noS = emptyBatch(fewer);
    writeFileSync(join(dir, 'odd-3.arrows'), RecordBatchStreamWriter.writeAll([noS]).toUint8Array(true));
    await expect(readSource(arrowSource, { path: 'odd-[03]*' })).rejects.toThrow("odd-3.arrows: has no column 's', which odd-0.arrow has (columns: id, x, cat, ts, l)");
    await expect(readSource(arrowSource, { path: 'none-*.arrow' })).rejects.toThrow(`no file matches 'none-*.arrow' in ${dir}`);
    await expect(readSource(arrowSource, { path: 'none.arrow' })).rejects.toThrow(`no file matches 'none.arrow' in ${dir}`);
  });

  test('truncated, corrupt and foreign files give InputErrors naming the file', async () => {
    const file = RecordBatchFileWriter.writeAll(fiveBatches).toUint8Array(true);
    const stream = RecordBatchStreamWriter.writeAll(fiveBatches).toUint8Array(true);
    const put = (name: string, bytes: Uint8Array | string) => writeFileSync(join(dir, name), bytes);
    put('cut-footer.arrow', file.subarray(0, file.byteLength - 30));
    put('cut-body.arrows', stream.subarray(0, stream.byteLength - 8 - 100));
    put('cut-anywhere.arrows', stream.subarray(0, Math.floor(stream.byteLength * 0.6)));
    put('cut-schema.arrows', stream.subarray(0, 20));
    put('text.arrow', 'id,x\n1,2\n');
    put('empty.arrow', '');
    put('parquet.arrow', Buffer.concat([Buffer.from('PAR1'), Buffer.alloc(100), Buffer.from('PAR1')]));
    const lying = Buffer.from(file);
    lying.writeInt32LE(file.byteLength, file.byteLength - 10);
    put('lying-footer.arrow', lying);
    const cases: [string, RegExp][] = [
      ['cut-footer.arrow', /^cut-footer\.arrow: truncated or corrupt: starts with the Arrow file magic ARROW1 but does not end with it/],
      ['cut-body.arrows', /^cut-body\.arrows: truncated: the message at byte \d+ ends at byte \d+ but the file has \d+/],
      ['cut-anywhere.arrows', /^cut-anywhere\.arrows: truncated: the message at byte \d+ /],
      ['cut-schema.arrows', /^cut-schema\.arrows: truncated: the message at byte 0 says its header has \d+ bytes but the file has 20/],
      ['text.arrow', /^text\.arrow: not an Arrow IPC file or stream/],
      ['empty.arrow', /^empty\.arrow: empty file/],
      ['parquet.arrow', /^parquet\.arrow: not an Arrow IPC file or stream/],
      ['lying-footer.arrow', new RegExp(`^lying-footer\\.arrow: corrupt: footer says ${file.byteLength} bytes but the file has ${file.byteLength}`)],
    ];
    for (const [name, message] of cases) {
      const err = await readSource(arrowSource, { path: name, chunkBytes: 1 }).catch((e) => e);
      expect(err, name).toBeInstanceOf(InputError);
      expect(err.file, name).toBe(name);
      expect(err.message, name).toMatch(message);
    }
    // a record batch whose header is damaged: found by the worker that reads it
    const damaged = Buffer.from(file);
    const at = damaged.indexOf(Buffer.from([0xff, 0xff, 0xff, 0xff]), 8 + 200);
    damaged.fill(0x55, at + 8, at + 40);
    put('damaged.arrow', damaged);
    const err = await readSource(arrowSource, { path: 'damaged.arrow', chunkBytes: 1 }).catch((e) => e);
    expect(err).toBeInstanceOf(InputError);
    expect(err.file).toBe('damaged.arrow');
    expect(err.message).toMatch(/^damaged\.arrow: corrupt/);
  });

  const hasTool = (name: string) => {
    try {
      execFileSync(name, ['--version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };

  test.skipIf(!hasTool('lz4'))('LZ4_FRAME bodies (pyarrow Feather default) are decompressed', async () => {
    const encode = (data: Uint8Array) => new Uint8Array(execFileSync('lz4', ['-c', '-q'], { input: data }));
    writeFileSync(join(dir, 'lz4.feather'), writeCompressed(fiveBatches.slice(0, 2), encode));
    const { partitions } = await readSource(arrowSource, { path: 'lz4.feather', chunkBytes: 1 });
    expect(rowsOf(partitions[0].batches)).toEqual(rowsOf(fiveBatches.slice(0, 2)));
  });

  test.skipIf(!hasTool('zstd'))('ZSTD bodies fail with a message saying so', async () => {
    compressionRegistry.set(CompressionType.ZSTD, { encode: (data) => new Uint8Array(execFileSync('zstd', ['-c', '-q'], { input: data })) });
    let bytes: Uint8Array;
    try {
      bytes = new RecordBatchStreamWriter({ compressionType: CompressionType.ZSTD }).writeAll(fiveBatches.slice(0, 1)).toUint8Array(true);
    } finally {
      compressionRegistry.set(CompressionType.ZSTD, {});
    }
    writeFileSync(join(dir, 'zstd.arrows'), bytes);
    const err = await readSource(arrowSource, { path: 'zstd.arrows' }).catch((e) => e);
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toMatch(/^zstd\.arrows: its record batches are compressed with ZSTD, which quiver cannot decompress/);
  });
});

describe('sink.arrow', () => {
  test('file (default) and stream (.arrows) outputs read back with Arrow JS, arrow-rs and quiver', async () => {
    const out = join(dir, 'out-basic');
    const expected = rowsOf(fiveBatches);
    await writeSink(arrowSink, { path: 'a.arrow' }, schema, [fiveBatches.slice(0, 3), fiveBatches.slice(3)], out);
    await writeSink(arrowSink, { path: 'a.arrows' }, schema, [fiveBatches.slice(0, 3), fiveBatches.slice(3)], out);
    await writeSink(arrowSink, { path: 'b.ipc', format: 'stream' }, schema, [fiveBatches], out);
    const file = readFileSync(join(out, 'a.arrow'));
    expect(file.subarray(0, 6).toString()).toBe('ARROW1');
    expect(file.subarray(-6).toString()).toBe('ARROW1');
    for (const name of ['a.arrows', 'b.ipc']) expect(readFileSync(join(out, name)).readInt32LE(0)).toBe(-1);
    for (const name of ['a.arrow', 'a.arrows', 'b.ipc']) {
      const bytes = readFileSync(join(out, name));
      expect(rowsOf(tableFromIPC(bytes).batches), name).toEqual(expected);
      const { partitions } = await readSource(arrowSource, { path: `out-basic/${name}`, chunkBytes: 1 });
      expect(partitions[0].chunks, name).toBe(5);
      expect(rowsOf(partitions[0].batches), name).toEqual(expected);
    }
    // arrow-rs (inside parquet-wasm) reads the stream format: an independent implementation
    for (const name of ['a.arrows', 'b.ipc']) {
      const table = pw.Table.fromIPCStream(readFileSync(join(out, name)));
      expect(table.numBatches).toBe(5);
      expect(rowsOf(tableFromIPC(table.intoIPCStream()).batches)).toEqual(expected);
    }
    const records = await writeSink(arrowSink, { path: 'each/' }, schema, [fiveBatches.slice(0, 2), fiveBatches.slice(2)], out);
    expect(records.map((r) => r.path.slice(out.length + 1))).toEqual(['each/part-0.arrow', 'each/part-1.arrow']);
    const empty = await writeSink(arrowSink, { path: 'empty.arrow' }, schema, [], out);
    const emptyTable = tableFromIPC(readFileSync(empty[0].path));
    expect(emptyTable.numRows).toBe(0);
    expect(emptyTable.schema.fields.map(String)).toEqual(schema.fields.map(String));
  });

  test('dictionaries that change between batches: replacements in streams, unified deltas in files', async () => {
    const other = vectorFromArray(['blue', 'yellow', 'red', 'black'], new Utf8());
    const batches = [makeBatch(0, 100, colours), makeBatch(100, 100, other), makeBatch(200, 100, colours), makeBatch(300, 100, other.slice(1, 3))];
    const expected = rowsOf(batches);
    const out = join(dir, 'out-dict');
    await writeSink(arrowSink, { path: 'd.arrow' }, schema, [batches], out);
    await writeSink(arrowSink, { path: 'd.arrows' }, schema, [batches], out);
    for (const name of ['d.arrow', 'd.arrows']) {
      expect(rowsOf(tableFromIPC(readFileSync(join(out, name))).batches), name).toEqual(expected);
      const { partitions } = await readSource(arrowSource, { path: `out-dict/${name}`, chunkBytes: 1 });
      expect(rowsOf(partitions[0].batches), name).toEqual(expected);
    }
    // the file holds one dictionary, grown by deltas: red, green, blue, then yellow and black
    const fileTable = tableFromIPC(readFileSync(join(out, 'd.arrow')));
    const last = fileTable.batches[3].getChild('cat')!.data[0].dictionary!;
    expect([...last]).toEqual(['red', 'green', 'blue', 'yellow', 'black']);
  });

  test('writes as it goes: bytes reach the file with each batch', async () => {
    const out = join(dir, 'out-streaming');
    const writer = await arrowSink.open(arrowSink.params.parse({ path: 's.arrow' }), { schema, outDir: out, stageId: 'out' });
    await writer.startPartition({ index: 0, key: 'p' });
    const onDisk = () => {
      const temp = readdirSync(out).find((f) => f.endsWith('.tmp'));
      return temp ? statSync(join(out, temp)).size : 0;
    };
    // Batches over 1 MiB each: the output file gathers smaller writes up to that size.
    const bigBatches = Array.from({ length: 5 }, (_, k) => makeBatch(k * 100_000, 100_000, colours));
    const sizes: number[] = [];
    for (const batch of bigBatches) {
      await writer.write(batch);
      sizes.push(onDisk());
    }
    await writer.endPartition({ index: 0, key: 'p' });
    const [record] = await writer.commit();
    expect(sizes.every((s, i) => i === 0 || s > sizes[i - 1])).toBe(true);
    expect(sizes[0]).toBeGreaterThan(0);
    expect(record.bytes).toBeGreaterThan(sizes[4]); // the footer came at the end
  });

  test('DuckDB reads the output when its arrow extension is installed', async (ctx) => {
    const loaded = await duckdb('LOAD nanoarrow').then(() => true, () => false);
    if (!loaded) ctx.skip(); // the extension is not bundled, and cannot be downloaded here
    const out = join(dir, 'out-duckdb');
    await writeSink(arrowSink, { path: 'd.arrows' }, schema, [fiveBatches], out);
    expect(await duckdb(`LOAD nanoarrow; SELECT count(*), sum(id) FROM read_arrow('${join(out, 'd.arrows')}')`)).toEqual([[5000n, 12_497_500n]]);
  });
});
