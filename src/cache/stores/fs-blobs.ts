// Blobs in a folder every machine mounts: STORE/blobs/ab/SHA256. Written under a temporary name,
// flushed and renamed, so a reader (on any machine, after the broker says the blob exists) sees
// it whole or not at all.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { BlobEntry, Blobs } from '../blobs.ts';

export class FsBlobs implements Blobs {
  constructor(readonly location: string) {}

  private path(sha256: string): string {
    return join(this.location, 'blobs', sha256.slice(0, 2), sha256);
  }

  async put(bytes: Uint8Array): Promise<string> {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
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
    await mkdir(dirname(path), { recursive: true });
    // Unique per writer: two machines may write the same blob at once (the rename makes one win).
    const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    await writeFile(temp, bytes, { flush: true });
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
    return readFile(this.path(sha256)).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
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
