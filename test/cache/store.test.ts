// The Store contract (src/cache/store.ts), on the folder store and on the S3 store (against a real
// local S3 server). What the engine relies on: a stream is invisible until committed and gone when
// aborted, it reads back batch for batch, records round trip and a damaged one reads as absent, a
// kept file is served only while its stamp holds, and pruning removes exactly what is not kept.
import { readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Field, Float64, Int32, Schema, vectorFromArray } from 'apache-arrow';
import { describe, expect, test } from 'vitest';
import { makeBatch } from '../../src/arrow/batch.ts';
import { pruneStore } from '../../src/cache/prune.ts';
import type { Store, StoreEntry } from '../../src/cache/store.ts';
import { FsStore } from '../../src/cache/stores/fs.ts';
import { S3Client } from '../../src/cache/stores/s3-client.ts';
import { S3Store } from '../../src/cache/stores/s3.ts';
import { sha256OfFile } from '../../src/io/file-hash.ts';
import { scratchDir } from '../helpers.ts';
import { useS3Server } from './s3-server.ts';

const schema = new Schema([new Field('id', new Int32(), false), new Field('x', new Float64(), true)]);
const batch = (from: number, n: number) => makeBatch(schema, [
  vectorFromArray(Array.from({ length: n }, (_, i) => from + i), new Int32()).data[0],
  vectorFromArray(Array.from({ length: n }, (_, i) => (i % 3 ? (from + i) / 2 : null)), new Float64()).data[0],
], n);
const key = (c: string) => c.repeat(64);

async function readAll(store: Store, k: string) {
  const batches = [];
  for await (const b of store.readStream(k)) batches.push(b);
  return batches;
}

async function entries(store: Store): Promise<StoreEntry[]> {
  const all = [];
  for await (const e of store.list()) all.push(e);
  return all.sort((a, b) => (a.kind + a.key < b.kind + b.key ? -1 : 1));
}

/** A kind of store, and how its entries can be changed behind its back. */
interface Subject {
  name: string;
  /** A fresh, empty store. */
  open(): Store;
  /** Replaces a task record's bytes, as a crash or another program could. */
  damageRecord(store: Store, key: string, text: string): Promise<void>;
  /** The same store as another process opens it. */
  reopen(store: Store): Store;
  /** Changes a kept file's bytes without the store (`output`: the file it was kept from). */
  changeKeptFile(store: Store, output: string, sha256: string): Promise<void>;
}

const s3 = useS3Server();
const s3Configs = new Map<Store, ReturnType<typeof s3.config>>();

const subjects: Subject[] = [
  {
    name: 'the folder store',
    open: () => new FsStore(join(scratchDir(), 'cache')),
    // A crash while the record was appended: its pack ends inside it.
    damageRecord: async (store, k) => {
      const pack = join(store.location, 'packs', readdirSync(join(store.location, 'packs'))[0]);
      const bytes = readFileSync(pack);
      truncateSync(pack, bytes.indexOf(k) + k.length + 5);
    },
    reopen: (store) => new FsStore(store.location),
    // Rewritten in place, the output rewrites the kept file too: they are one hard link.
    changeKeptFile: async (_, output) => writeFileSync(output, 'edited in place, same link\n'),
  },
  {
    name: 'the S3 store',
    open: () => {
      const config = s3.config();
      const store = new S3Store(config);
      s3Configs.set(store, config);
      return store;
    },
    damageRecord: (store, k, text) => putObject(store, `records/${k}.json`, text),
    reopen: (store) => store,
    // Another program overwrites the object.
    changeKeptFile: (store, _, sha) => putObject(store, `files/${sha}`, 'other bytes\n'),
  },
];

async function putObject(store: Store, name: string, text: string): Promise<void> {
  const client = new S3Client(s3Configs.get(store)!);
  await client.send('PUT', client.key(name), { body: text });
}

describe.each(subjects)('$name', (subject) => {
  test('a stream is invisible until committed, reads back batch for batch, and an aborted one leaves nothing', async () => {
    const store = subject.open();
    const writer = store.writeStream(key('a'), schema);
    // Enough rows that the writer flushes several records of about 1 MiB.
    const written = Array.from({ length: 40 }, (_, i) => batch(i * 5000, 5000));
    for (const b of written) await writer.write(b);
    expect(await store.hasStream(key('a'))).toBe(false);
    await writer.commit();
    expect(await store.hasStream(key('a'))).toBe(true);
    const read = await readAll(store, key('a'));
    expect(read.map((b) => b.numRows)).toEqual(written.map((b) => b.numRows));
    expect(read.at(-1)!.getChild('id')!.get(4999)).toBe(39 * 5000 + 4999);
    expect(read[0].getChild('x')!.get(3)).toBe(null);

    const aborted = store.writeStream(key('b'), schema);
    await aborted.write(batch(0, 10));
    await aborted.abort();
    expect(await store.hasStream(key('b'))).toBe(false);
    expect((await entries(store)).map((e) => e.kind)).toEqual(['stream']);
  });

  test('records round trip by kind; an absent or damaged record reads as none', async () => {
    const store = subject.open();
    await store.writeRecord('task', key('c'), { rowsIn: 3, rowsOut: 2, quarantined: 1, seconds: 0.5 });
    await store.writeRecord('sink', key('c'), { outputs: [], rowsIn: 3, partitions: 1 });
    expect(await store.readRecord('task', key('c'))).toEqual({ rowsIn: 3, rowsOut: 2, quarantined: 1, seconds: 0.5 });
    expect(await store.readRecord('sink', key('c'))).toEqual({ outputs: [], rowsIn: 3, partitions: 1 });
    expect(await store.readRecord('task', key('d'))).toBeUndefined();
    await subject.damageRecord(store, key('c'), '{"rowsIn": 3, "rows'); // cut short
    expect(await subject.reopen(store).readRecord('task', key('c'))).toBeUndefined();
  });

  test('a kept file is served while its stamp holds; one changed since is not', async () => {
    const dir = scratchDir();
    const store = subject.open();
    const output = join(dir, 'out.txt');
    writeFileSync(output, 'the bytes a sink wrote\n');
    const sha = await sha256OfFile(output);
    const stamp = await store.keepFile(output, sha);
    expect(stamp.bytes).toBe(23);
    expect(await store.hasFile(sha, stamp)).toBe(true);

    const restored = join(dir, 'again', 'out.txt');
    await store.restoreFile(sha, restored);
    expect(readFileSync(restored, 'utf8')).toBe('the bytes a sink wrote\n');

    await subject.changeKeptFile(store, output, sha);
    expect(await store.hasFile(sha, stamp)).toBe(false);
    expect(await store.hasFile(key('e'))).toBe(false);
  });

  test('pruning removes what is not kept, and counts the bytes freed', async () => {
    const store = subject.open();
    for (const k of [key('1'), key('2')]) {
      const w = store.writeStream(k, schema);
      await w.write(batch(0, 100));
      await w.commit();
      await store.writeRecord('task', k, { rowsIn: 100, rowsOut: 100, quarantined: 0, seconds: 0 });
    }
    const result = await pruneStore(store, (k) => k === key('1'));
    expect([result.kept, result.removed]).toEqual([2, 2]);
    expect(result.freedBytes).toBeGreaterThan(0);
    expect((await entries(store)).map((e) => [e.kind, e.key])).toEqual([['stream', key('1')], ['task', key('1')]]);
    expect(await store.hasStream(key('2'))).toBe(false);
    expect((await readAll(store, key('1')))[0].numRows).toBe(100);
  });
});
