// A file that appears only complete: written under a temporary name beside its final path,
// fsynced, then renamed. Its sha256 and size are counted as it is written.
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export class OutputFile {
  readonly tempPath: string;
  private handle?: Promise<FileHandle>;
  private readonly hash = createHash('sha256');
  private written = 0;
  private pending: Promise<unknown> = Promise.resolve();

  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
    this.tempPath = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`);
  }

  /** Appends bytes; writes are queued in order, so callers may await or not. */
  write(bytes: Uint8Array): Promise<void> {
    if (!this.handle) this.handle = open(this.tempPath, 'w');
    this.hash.update(bytes);
    const position = this.written;
    this.written += bytes.byteLength;
    const next = this.pending.then(async () => {
      const handle = await this.handle!;
      let done = 0;
      while (done < bytes.byteLength) {
        const { bytesWritten } = await handle.write(bytes, done, bytes.byteLength - done, position + done);
        done += bytesWritten;
      }
    });
    this.pending = next;
    return next;
  }

  get size(): number {
    return this.written;
  }

  /** Flushes to disk and closes, still under the temporary name. */
  async finish(): Promise<void> {
    if (!this.handle) this.handle = open(this.tempPath, 'w');
    await this.pending;
    const handle = await this.handle;
    await handle.sync();
    await handle.close();
  }

  /** Moves the finished file to its final path; returns its sha256. */
  async commit(): Promise<string> {
    await rename(this.tempPath, this.path);
    return this.hash.digest('hex');
  }

  async abort(): Promise<void> {
    try {
      await this.pending;
      await (await this.handle)?.close();
    } catch {
      // already closed, or the write that failed is why we abort
    }
    await rm(this.tempPath, { force: true });
  }
}
