// A file that appears only complete: written under a temporary name beside its final path,
// fsynced, then renamed. The bytes are gathered into blocks of about 1 MiB and handed to a
// writer thread that writes and hashes them (sha256 for the run record) off the main thread.
import { randomBytes } from 'node:crypto';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { makeFolder } from './make-folder.ts';
import { packageRoot } from '../workflow/own-code.ts';

const gatherBytes = 1 << 20;
/** Bytes handed to the writer thread and not yet written, per file, before `write` waits. */
const inFlightBytes = 8 << 20;

type Reply = { op: 'written' | 'finished' | 'aborted' | 'error'; id: number; seq?: number; sha256?: string; message?: string };

/** The one writer thread, started on first use and let go (unref) when idle. */
class WriterThread {
  private worker?: Worker;
  private nextId = 0;
  private readonly listeners = new Map<number, (reply: Reply) => void>();

  register(listener: (reply: Reply) => void): number {
    const id = this.nextId++;
    this.listeners.set(id, listener);
    if (!this.worker) {
      this.worker = new Worker(new URL('workers/file-writer.mjs', packageRoot));
      this.worker.on('message', (reply: Reply) => this.listeners.get(reply.id)?.(reply));
      this.worker.on('error', (error) => {
        for (const listener of this.listeners.values()) listener({ op: 'error', id: -1, message: error.message });
      });
    }
    this.worker.ref();
    return id;
  }

  post(message: object, transfer: ArrayBuffer[] = []): void {
    this.worker!.postMessage(message, transfer);
  }

  release(id: number): void {
    this.listeners.delete(id);
    if (this.listeners.size === 0) this.worker?.unref();
  }
}

const writerThread = new WriterThread();

export class OutputFile {
  readonly tempPath: string;
  private readonly id: number;
  private written = 0;
  private gathered: Uint8Array[] = [];
  private gatheredBytes = 0;
  private seq = 0;
  private unacknowledged = 0;
  private readonly acks = new Map<number, { bytes: number; resolve: () => void; reject: (e: Error) => void; promise: Promise<void> }>();
  private lastAck: Promise<void> = Promise.resolve();
  private finished?: { resolve: (sha256: string) => void; reject: (e: Error) => void };
  private sha256?: string;
  private failure?: Error;

  /**
   * `durable: false` skips the fsync and `hashed: false` the sha256: for files a crash may lose (the
   * task cache, which checks its own entries are whole) and that no record lists by hash.
   */
  constructor(readonly path: string, private readonly options: { durable?: boolean; hashed?: boolean } = {}) {
    makeFolder(dirname(path));
    this.tempPath = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`);
    this.id = writerThread.register((reply) => this.onReply(reply));
  }

  private onReply(reply: Reply) {
    if (this.failure) return;
    if (reply.op === 'error') {
      this.failure = new Error(`writing ${this.path}: ${reply.message}`);
      for (const ack of this.acks.values()) ack.reject(this.failure);
      this.acks.clear();
      this.finished?.reject(this.failure);
      // Nothing more comes for this file: the thread may let the process exit.
      writerThread.release(this.id);
      return;
    }
    if (reply.op === 'written') {
      const ack = this.acks.get(reply.seq!)!;
      this.acks.delete(reply.seq!);
      this.unacknowledged -= ack.bytes;
      ack.resolve();
    } else if (reply.op === 'finished') {
      this.finished?.resolve(reply.sha256!);
    }
  }

  /**
   * Appends bytes (which must not change afterwards). The promise settles once the writes issued
   * so far have landed; it also keeps at most `inFlightBytes` waiting per file.
   */
  write(bytes: Uint8Array, options: { owned?: boolean } = {}): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    this.written += bytes.byteLength;
    this.gathered.push(bytes);
    this.gatheredBytes += bytes.byteLength;
    // A large buffer the caller hands over (`owned`) goes to the writer thread as it is.
    const handOver = options.owned === true && this.gathered.length === 1;
    if (this.gatheredBytes >= gatherBytes) this.flushGathered(handOver);
    return this.unacknowledged > inFlightBytes ? this.oldestAck() : this.lastAck;
  }

  private oldestAck(): Promise<void> {
    const first = this.acks.values().next().value;
    return first ? first.promise.then(() => (this.unacknowledged > inFlightBytes ? this.oldestAck() : undefined)) : this.lastAck;
  }

  private flushGathered(handOver = false): void {
    if (this.gatheredBytes === 0) return;
    // Otherwise a fresh buffer: the pieces may be views into batches still in use elsewhere.
    const bytes = handOver ? this.gathered[0] : Buffer.concat(this.gathered, this.gatheredBytes);
    const position = this.written - this.gatheredBytes;
    this.gathered = [];
    this.unacknowledged += this.gatheredBytes;
    const seq = this.seq++;
    let resolve!: () => void;
    let reject!: (e: Error) => void;
    const promise = new Promise<void>((res, rej) => ([resolve, reject] = [res, rej]));
    promise.catch(() => undefined);
    this.acks.set(seq, { bytes: this.gatheredBytes, resolve, reject, promise });
    this.lastAck = promise;
    this.gatheredBytes = 0;
    const buffer = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? [bytes.buffer as ArrayBuffer] : [];
    writerThread.post({ op: 'write', id: this.id, path: this.tempPath, seq, position, bytes, hash: this.options.hashed !== false }, buffer);
  }

  /** More than `inFlightBytes` handed over and not yet written: a writer should wait. */
  get backlogged(): boolean {
    return this.unacknowledged > inFlightBytes;
  }

  get size(): number {
    return this.written;
  }

  /** Writes what is gathered, fsyncs and closes, still under the temporary name. */
  async finish(): Promise<void> {
    if (this.sha256 !== undefined) return;
    try {
      if (this.failure) throw this.failure;
      this.flushGathered();
      const done = new Promise<string>((resolve, reject) => (this.finished = { resolve, reject }));
      writerThread.post({ op: 'finish', id: this.id, path: this.tempPath, sync: this.options.durable !== false, hash: this.options.hashed !== false });
      this.sha256 = await done;
    } catch (error) {
      await this.abort().catch(() => undefined); // a full or vanished disk leaves no temporary file behind
      throw error;
    }
    writerThread.release(this.id);
  }

  /** Moves the finished file to its final path; returns its sha256. */
  async commit(): Promise<string> {
    try {
      await rename(this.tempPath, this.path);
    } catch (error) {
      await rm(this.tempPath, { force: true }).catch(() => undefined);
      throw new Error(`writing ${this.path}: ${(error as Error).message}`);
    }
    return this.sha256!;
  }

  async abort(): Promise<void> {
    if (this.sha256 === undefined) {
      writerThread.post({ op: 'abort', id: this.id });
      await Promise.allSettled([...this.acks.values()].map((a) => a.promise));
    }
    writerThread.release(this.id);
    await rm(this.tempPath, { force: true });
  }
}
