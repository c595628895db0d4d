// Blobs in a folder every machine mounts: STORE/blobs/ab/SHA256. Written under a temporary name,
// flushed and renamed, so a reader (on any machine, after the broker says the blob exists) sees
// it whole or not at all.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Blobs } from '../blobs.ts';

export class FsBlobs implements Blobs {
  constructor(readonly location: string) {}

  private path(sha256: string): string {
    return join(this.location, 'blobs', sha256.slice(0, 2), sha256);
  }

  async put(bytes: Uint8Array): Promise<string> {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const path = this.path(sha256);
    if (existsSync(path)) return sha256;
    await mkdir(dirname(path), { recursive: true });
    // Unique per writer: two machines may write the same blob at once (the rename makes one win).
    const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    await writeFile(temp, bytes, { flush: true });
    await rename(temp, path);
    return sha256;
  }

  async get(sha256: string): Promise<Uint8Array | undefined> {
    return readFile(this.path(sha256)).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
  }
}
