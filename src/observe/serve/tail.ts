// Follows a growing log file (a run's log.jsonl while it runs): reads only the bytes added since the
// last read, hands on complete lines with the byte offset where each ends, and keeps a torn last
// line until its end arrives. Woken by fs.watch where it works, and by polling regardless (network
// file systems, editors that replace files, a log that does not exist yet).
import { watch, type FSWatcher } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, dirname } from 'node:path';

export interface TailOptions {
  /** Byte offset to start from (0: the whole file). */
  from?: number;
  /** Polling interval in ms (default 500). */
  pollMs?: number;
  /** Most bytes read per wake-up (default 4 MiB); the rest is read on the next. */
  chunkBytes?: number;
}

export class LogTail {
  private position: number;
  private pending: Buffer = Buffer.alloc(0);
  private watcher?: FSWatcher;
  private timer?: NodeJS.Timeout;
  private reading = false;
  private again = false;
  private stopped = false;

  /** `onLine(line, end)`: one complete line (without its newline) and the offset just past it. */
  constructor(private readonly file: string, private readonly onLine: (line: string, end: number) => void, private readonly options: TailOptions = {}) {
    this.position = options.from ?? 0;
  }

  start(): this {
    try {
      // Watch the folder: the file may not exist yet, and a watch on a replaced file goes deaf.
      const name = basename(this.file);
      this.watcher = watch(dirname(this.file), { persistent: false }, (_event, changed) => {
        if (!changed || changed === name) this.wake();
      });
      this.watcher.on('error', () => undefined);
    } catch {
      // no watching here: polling alone
    }
    this.timer = setInterval(() => this.wake(), this.options.pollMs ?? 500);
    this.timer.unref();
    this.wake();
    return this;
  }

  stop(): void {
    this.stopped = true;
    this.watcher?.close();
    clearInterval(this.timer);
  }

  /** Reads what was added; calls overlapping a read run once more after it. */
  wake(): void {
    if (this.stopped) return;
    if (this.reading) {
      this.again = true;
      return;
    }
    this.reading = true;
    this.read().catch(() => undefined).finally(() => {
      this.reading = false;
      if (this.again) {
        this.again = false;
        this.wake();
      }
    });
  }

  private async read(): Promise<void> {
    let handle;
    try {
      handle = await open(this.file, 'r');
    } catch {
      return; // not there yet
    }
    try {
      const { size } = await handle.stat();
      if (size < this.position) {
        // Truncated or replaced: start again from its beginning.
        this.position = 0;
        this.pending = Buffer.alloc(0);
      }
      const want = Math.min(size - this.position, this.options.chunkBytes ?? 4 * 1024 * 1024);
      if (want <= 0) return;
      const buffer = Buffer.alloc(want);
      const { bytesRead } = await handle.read(buffer, 0, want, this.position);
      this.position += bytesRead;
      this.split(buffer.subarray(0, bytesRead));
      if (this.position < size) this.again = true;
    } finally {
      await handle.close();
    }
  }

  private split(bytes: Buffer): void {
    const data = this.pending.length ? Buffer.concat([this.pending, bytes]) : bytes;
    const base = this.position - data.length; // the file offset of data[0]
    let start = 0;
    for (let nl = data.indexOf(10, start); nl !== -1 && !this.stopped; nl = data.indexOf(10, start)) {
      const line = data.subarray(start, nl).toString('utf8');
      start = nl + 1;
      if (line.trim()) this.onLine(line, base + start);
    }
    // A torn last line waits for the rest of it.
    this.pending = Buffer.from(data.subarray(start));
  }
}
