// The folder store's blobs (requests and replies of distributed runs): a blob reads back as
// written; a small one that is not the bytes it is named for (what a machine crash can leave of a
// blob written without a flush) is told apart by `whole` and written again by the next put; a
// large one (flushed, read beside the event loop) round trips too.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { expect, test } from 'vitest';
import { whole } from '../../src/cache/blobs.ts';
import { FsBlobs } from '../../src/cache/stores/fs-blobs.ts';
import { scratchDir } from '../helpers.ts';

const pathOf = (store: string, sha256: string) => join(store, 'blobs', sha256.slice(0, 2), sha256);

// A large blob is flushed: on a busy disk, that alone can take seconds.
test('a blob reads back as written, small or large; an unknown one is absent', async () => {
  const store = scratchDir('fs-blobs');
  const blobs = new FsBlobs(store);
  const small = new TextEncoder().encode('a tiny reply');
  const large = new Uint8Array(300 << 10).map((_, i) => i % 251); // past the 256 KiB of a small one
  const [a, b] = [await blobs.put(small), await blobs.put(large)];
  expect(Buffer.from((await blobs.get(a))!)).toEqual(Buffer.from(small));
  expect(Buffer.from((await blobs.get(b))!)).toEqual(Buffer.from(large));
  expect(await blobs.put(small)).toBe(a); // the same bytes, the same name
  expect(await blobs.get('0'.repeat(64))).toBeUndefined();
  expect(readdirSync(dirname(pathOf(store, a))).filter((n) => n.endsWith('.tmp'))).toEqual([]);
});

test('a small blob cut short (a crash before its bytes reached the disk) is not whole, and the next put writes it whole; a durable one is kept as it is', async () => {
  const store = scratchDir('fs-blobs-torn');
  const blobs = new FsBlobs(store);
  const bytes = new TextEncoder().encode('a reply whose rename outlived its bytes');
  const sha256 = await blobs.put(bytes);
  expect(whole((await blobs.get(sha256))!, sha256)).toBe(true);
  for (const damaged of [new Uint8Array(0), bytes.subarray(0, 7), new Uint8Array(bytes.length)]) {
    writeFileSync(pathOf(store, sha256), damaged);
    expect(whole((await blobs.get(sha256))!, sha256)).toBe(false);
    expect(await blobs.put(bytes)).toBe(sha256);
    expect(Buffer.from((await blobs.get(sha256))!)).toEqual(Buffer.from(bytes));
  }
  // A stage bundle is put durable: one changed in the store stays changed, for its reader to refuse.
  writeFileSync(pathOf(store, sha256), bytes.subarray(0, 7));
  await blobs.put(bytes, { durable: true });
  expect(whole((await blobs.get(sha256))!, sha256)).toBe(false);
});

test('a store emptied while it is in use: the next put makes its folder again', async () => {
  const store = scratchDir('fs-blobs-emptied');
  const blobs = new FsBlobs(store);
  await blobs.put(new TextEncoder().encode('first'));
  rmSync(join(store, 'blobs'), { recursive: true });
  const again = await blobs.put(new TextEncoder().encode('first'));
  expect(new TextDecoder().decode((await blobs.get(again))!)).toBe('first');
});

test('what a writer killed mid-write left (its temporary, never renamed) goes with the next write of the same bytes', async () => {
  const store = scratchDir('fs-blobs-killed');
  const blobs = new FsBlobs(store);
  const bytes = new TextEncoder().encode('a request whose writer was killed');
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  mkdirSync(dirname(pathOf(store, sha256)), { recursive: true });
  writeFileSync(`${pathOf(store, sha256)}.tmp`, bytes.subarray(0, 5)); // cut short by the kill
  expect(await blobs.put(bytes)).toBe(sha256);
  expect(Buffer.from((await blobs.get(sha256))!)).toEqual(Buffer.from(bytes));
  expect(readdirSync(dirname(pathOf(store, sha256)))).toEqual([sha256]);
});
