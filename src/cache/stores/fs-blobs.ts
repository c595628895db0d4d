// Blobs in a folder every machine mounts: STORE/blobs/ab/SHA256. Written under a temporary name
// and renamed, so a reader (on any machine, after the broker says the blob exists) sees it whole
// or not at all.
//
// A small blob (up to unflushedBytes: a tiny task's reply, or a request too large for its
// message) is not flushed to the disk before its rename, unless put as durable (a stage bundle): a
// flush per task was the largest part of a tiny task's cost, and every such blob can be made again
// (a request by its coordinator, a reply by running its task again: the coordinator does so when
// `done.<key>` names a reply that is not whole). What a machine crash can leave of one (renamed
// into place before its bytes reached the disk: empty, cut short or zeros) is told by its name,
// its sha256 (`whole` in blobs.ts): its readers check, and a put of the same bytes writes it again.
// A small blob is also read with synchronous calls: the four calls of a read handed one by one to
// libuv's thread pool cost a thread switch and a wake-up each, more than the calls themselves.
// Writes stay in the thread pool: creating a file waits for the file system's journal, at times
// for many milliseconds.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { unflushedBytes, whole, type BlobEntry, type Blobs } from '../blobs.ts';

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
    const small = bytes.byteLength <= unflushedBytes;
    // Kept already, and whole: a small blob put without a flush is read to be sure (see above).
    if (existsSync(path) && (durable || !small || this.wholeAt(path, sha256))) {
      // Written again (a resumed coordinator, a duplicate task): temporaries of it that a writer
      // killed mid-write left behind go now; the usual write reads no folder listing. Its time is
      // renewed, so that pruning by age spares a blob a run has just asked for again.
      await this.sweep(sha256);
      const now = new Date();
      await utimes(path, now, now).catch(() => undefined);
      return sha256;
    }
    const folder = dirname(path);
    // The blob's own temporary name, created exclusively; taken (a writer of the same bytes is at it
    // now, or was killed at it), a name of this writer's own, and the taken one removed once the
    // blob is in place: so what a killed writer left goes with the next write, without a listing.
    const shared = `${path}.tmp`;
    let temp = shared;
    const write = async () => {
      if (!this.folders.has(folder)) {
        await mkdir(folder, { recursive: true });
        this.folders.add(folder);
      }
      try {
        await writeFile(temp, bytes, { flush: durable || !small, flag: 'wx' });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || temp !== shared) throw error;
        temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
        await writeFile(temp, bytes, { flush: durable || !small, flag: 'wx' });
      }
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
    // A live writer of the taken name then finds it gone at its rename, and the blob in place.
    if (temp !== shared) await rm(shared, { force: true });
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
    try {
      const size = statSync(path, { throwIfNoEntry: false })?.size;
      if (size === undefined) return undefined;
      return size <= unflushedBytes ? readFileSync(path) : await readFile(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined; // gone since (pruned, or the store emptied)
      throw error;
    }
  }

  private wholeAt(path: string, sha256: string): boolean {
    try {
      return whole(readFileSync(path), sha256);
    } catch {
      return false;
    }
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
