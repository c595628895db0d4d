// A file that appears only complete: written under a temporary name beside its final path,
// fsynced, then renamed. Its sha256 and size are counted as it is written.
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

const gatherBytes = 1 << 20;

export class OutputFile {
  readonly tempPath: string;
  private handle?: Promise<FileHandle>;
  private readonly hash = createHash('sha256');
  private written = 0;
  private pending: Promise<unknown> = Promise.resolve();
  private gathered: Uint8Array[] = [];
  private gatheredBytes = 0;

  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
    this.tempPath = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`);
  }

  /**
   * Appends bytes (which must not change afterwards). Small pieces are gathered into writes of
   * about 1 MiB, since a system call per batch costs more than the batch; writes stay in order.
   */
  write(bytes: Uint8Array): Promise<void> {
    this.written += bytes.byteLength;
    this.gathered.push(bytes);
    this.gatheredBytes += bytes.byteLength;
    // Either way, the promise settles once every write issued so far has landed.
    return this.gatheredBytes >= gatherBytes ? this.flushGathered() : (this.pending as Promise<void>);
  }

  private flushGathered(): Promise<void> {
    if (this.gatheredBytes === 0) return this.pending as Promise<void>;
    const bytes = this.gathered.length === 1 ? this.gathered[0] : Buffer.concat(this.gathered, this.gatheredBytes);
    this.hash.update(bytes);
    const position = this.written - this.gatheredBytes;
    this.gathered = [];
    this.gatheredBytes = 0;
    if (!this.handle) this.handle = open(this.tempPath, 'w');
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
    await this.flushGathered();
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
