// Blobs in a folder every machine mounts: STORE/blobs/ab/SHA256. Written under a temporary name
// and renamed, so a reader (on any machine, after the broker says the blob exists) sees it whole
// or not at all.
//
// A small blob (up to smallBytes: a tiny task's reply, or a request too large for its message) is
// not flushed to the disk before its rename, unless put as durable (a stage bundle): a flush per task was the largest part of a tiny
// task's cost, and every blob here can be made again (a request by its coordinator, a reply by
// running its task again: the coordinator does so when `done.<key>` names a reply it cannot read).
// What a machine crash can leave of one (renamed into place before its bytes reached the disk:
// empty, cut short or zeros) is caught on reading, since its name is its sha256: such a blob is
// removed and reads as absent. It is also read with synchronous calls: the four calls of a read
// handed one by one to libuv's thread pool cost a thread switch and a wake-up each, more than the
// calls themselves. A large blob is flushed before its rename (where the flush costs little beside
// the writing) and read beside the event loop, not hashed again. Writes stay in the thread pool:
// creating a file waits for the file system's journal, at times for many milliseconds.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { BlobEntry, Blobs } from '../blobs.ts';

/** Blobs up to this size are small (see above). */
const smallBytes = 256 * 1024;

const sha256Of = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

export class FsBlobs implements Blobs {
  /** The fan-out folders this process has made or found: each is made once, not on every put. */
  private readonly folders = new Set<string>();

  constructor(readonly location: string) {}

  private path(sha256: string): string {
    return join(this.location, 'blobs', sha256.slice(0, 2), sha256);
  }

  async put(bytes: Uint8Array, { durable = false }: { durable?: boolean } = {}): Promise<string> {
    const sha256 = sha256Of(bytes);
    const path = this.path(sha256);
    if (existsSync(path)) {
      // Written again (a resumed coordinator, a duplicate task): temporaries of it that a writer
      // killed mid-write left behind go now; the usual write reads no folder listing. Its time is
      // renewed, so that pruning by age spares a blob a run has just asked for again.
      await this.sweep(sha256);
      const now = new Date();
      await utimes(path, now, now).catch(() => undefined);
      return sha256;
    }
    const folder = dirname(path);
    // Unique per writer: two machines may write the same blob at once (the rename makes one win).
    const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    const write = async () => {
      if (!this.folders.has(folder)) {
        await mkdir(folder, { recursive: true });
        this.folders.add(folder);
      }
      await writeFile(temp, bytes, { flush: durable || bytes.byteLength > smallBytes });
    };
    try {
      await write();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || !this.folders.delete(folder)) throw error;
      await write(); // the folder went (the store was emptied while this process ran): made again
    }
    try {
      await rename(temp, path);
    } catch (error) {
      // Our temporary was swept by another writer of the same blob that found it whole.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || !existsSync(path)) throw error;
    }
    return sha256;
  }

  /** Removes the temporaries of a blob that is whole. */
  private async sweep(sha256: string): Promise<void> {
    const folder = dirname(this.path(sha256));
    for (const name of await readdir(folder)) {
      if (name.startsWith(`${sha256}.`) && name.endsWith('.tmp')) await rm(join(folder, name), { force: true });
    }
  }

  async get(sha256: string): Promise<Uint8Array | undefined> {
    const path = this.path(sha256);
    const size = statSync(path, { throwIfNoEntry: false })?.size;
    if (size === undefined) return undefined;
    let bytes: Buffer;
    try {
      if (size > smallBytes) return await readFile(path);
      bytes = readFileSync(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined; // gone since (the store emptied)
      throw error;
    }
    if (sha256Of(bytes) === sha256) return bytes;
    // Not the bytes it is named for: a small blob cut short by a machine crash (see above).
    // Removed, so that the next put writes it whole, and absent till then.
    rmSync(path, { force: true });
    return undefined;
  }

  async *list(): AsyncGenerator<BlobEntry> {
    const root = join(this.location, 'blobs');
    if (!existsSync(root)) return;
    for (const folder of (await readdir(root)).sort()) {
      for (const name of (await readdir(join(root, folder)).catch(() => [])).sort()) {
        const info = await stat(join(root, folder, name)).catch(() => undefined);
        if (info?.isFile()) yield { name, bytes: info.size, modifiedMs: info.mtimeMs };
      }
    }
  }

  async remove(entry: BlobEntry): Promise<void> {
    await rm(join(this.location, 'blobs', entry.name.slice(0, 2), entry.name), { force: true });
  }
}
