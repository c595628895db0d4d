// Gzip-compressed inputs (`.fits.gz`, `.nii.gz`; told by the gzip magic bytes 1f 8b, not by the name): a
// ByteReader over the decompressed stream, inflated as reads ask for it (node:zlib), never whole.
// A gzip stream cannot be read at random, so the reader goes forward: bytes before `keepFrom`
// are dropped as they are inflated (discovery walks the headers and skips the data; a worker
// keeps only its HDU), and a read before that point is a programming error, said so.
// Memory is bounded by what the headers declare: every read is checked against the task's budget
// before it is inflated, the size the stream can have is bounded by deflate's best ratio (a header
// that declares more fails at once, naming the file), and `size` becomes exact when the stream ends,
// so a header that declares more than the stream holds fails as a truncated file.
import { once } from 'node:events';
import { createGunzip, type Gunzip } from 'node:zlib';
import type { ByteReader } from './byte-reader.ts';
import { checkTaskMemory, DEFLATE_MAX_RATIO } from './limits.ts';
import { InputError } from '../workflow/errors.ts';

/** Compressed bytes read from the file per step. */
const SLICE = 256 * 1024;

export function isGzip(head: Uint8Array): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

export class GzipBytes implements ByteReader {
  readonly name: string;
  readonly identity: string;
  /** Most bytes the stream can inflate to, until it has ended; then exactly what it held. */
  size: number;
  private readonly gunzip: Gunzip;
  private readonly chunks: AsyncIterator<Buffer>;
  private held: Uint8Array[] = [];
  /** Position (in the inflated stream) of the first byte held, and of the byte after the last. */
  private base = 0;
  private end = 0;
  private ended = false;
  private failed?: Error;
  private closed = false;

  /**
   * `source`: the compressed bytes. `keepFrom`: bytes before it are dropped as they come; with
   * `forward`, the point moves to each read's start (for a reader that only goes forward).
   */
  constructor(readonly source: ByteReader, private keepFrom = 0, private readonly forward = false) {
    this.name = source.name;
    this.identity = `gzip\0${source.identity}`;
    this.size = source.size * DEFLATE_MAX_RATIO;
    this.gunzip = createGunzip({ chunkSize: 64 * 1024 });
    this.chunks = this.gunzip[Symbol.asyncIterator]();
    void this.feed();
  }

  private async feed(): Promise<void> {
    try {
      for (let at = 0; at < this.source.size && !this.closed; at += SLICE) {
        const slice = await this.source.read(at, Math.min(SLICE, this.source.size - at), 'the gzip stream');
        if (!this.gunzip.write(slice)) await once(this.gunzip, 'drain');
      }
      this.gunzip.end();
    } catch (error) {
      if (!this.closed) this.gunzip.destroy(error as Error);
    }
  }

  /** How far the stream goes, for messages. */
  endText(): string {
    return this.ended ? `the gzip stream inflates to ${this.size} bytes` : `a gzip stream of ${this.source.size} bytes inflates to at most ${this.size} (deflate's best ratio is ${DEFLATE_MAX_RATIO}:1)`;
  }

  /** Inflates up to `end` (or the stream's end: then `size` is exact); a forward reader first forgets the bytes before `from`. */
  async settle(end: number, from = end): Promise<void> {
    if (this.forward) this.drop(from);
    if (end > this.size) return;
    checkTaskMemory(this.name, 'the inflated bytes held', end - this.keepFrom);
    await this.inflateTo(end);
  }

  private async inflateTo(position: number): Promise<void> {
    while (this.end < position && !this.ended) {
      let next: IteratorResult<Buffer>;
      try {
        next = await this.chunks.next();
      } catch (error) {
        this.failed ??= new InputError(this.name, `the gzip stream is damaged or cut short after ${this.end} inflated bytes (${(error as Error).message})`);
        throw this.failed;
      }
      if (next.done) {
        this.ended = true;
        this.size = this.end;
        break;
      }
      const chunk = next.value;
      const start = this.end;
      this.end += chunk.length;
      if (this.end <= this.keepFrom) continue;
      this.held.push(start >= this.keepFrom ? chunk : chunk.subarray(this.keepFrom - start));
      if (this.held.length === 1) this.base = Math.max(start, this.keepFrom);
    }
    if (this.failed) throw this.failed;
  }

  async read(position: number, length: number, what: string): Promise<Uint8Array> {
    if (this.forward) this.drop(position);
    if (position < this.keepFrom) {
      throw new Error(`${this.name}: reading the gzip stream backwards (byte ${position}, after ${this.keepFrom}) is not supported`);
    }
    if (position + length > this.size) throw new InputError(this.name, `truncated: ${what} needs bytes ${position}-${position + length} but ${this.endText()}`);
    // What stays held once this read is done: from the first byte kept to the read's end.
    checkTaskMemory(this.name, what, position + length - this.keepFrom);
    await this.inflateTo(position + length);
    if (position + length > this.end) {
      throw new InputError(this.name, `truncated: ${what} needs bytes ${position}-${position + length} but the file inflates to ${this.end} bytes`);
    }
    const out = new Uint8Array(length);
    let at = this.base;
    for (const chunk of this.held) {
      const from = Math.max(position, at);
      const to = Math.min(position + length, at + chunk.length);
      if (from < to) out.set(chunk.subarray(from - at, to - at), from - position);
      at += chunk.length;
      if (at >= position + length) break;
    }
    return out;
  }

  /** Forgets the bytes before `position`. */
  private drop(position: number): void {
    if (position <= this.keepFrom) return;
    this.keepFrom = position;
    while (this.held.length > 0 && this.base + this.held[0].length <= position) this.base += this.held.shift()!.length;
    if (this.held.length > 0 && this.base < position) {
      this.held[0] = this.held[0].subarray(position - this.base);
      this.base = position;
    }
    if (this.held.length === 0) this.base = Math.max(position, this.end);
  }

  blob(): Promise<Blob> {
    return Promise.reject(new Error(`${this.name}: a gzip stream cannot be read as a Blob`));
  }

  async close(): Promise<void> {
    this.closed = true;
    this.gunzip.destroy();
    await this.source.close();
  }
}

/** `bytes` as they are, or inflated when they start with the gzip magic; `keepFrom`/`forward` as for GzipBytes. */
export async function maybeGunzip(bytes: ByteReader, keepFrom = 0, forward = false): Promise<ByteReader> {
  if (bytes.size < 2 || !isGzip(await bytes.read(0, 2, 'the first bytes'))) return bytes;
  return new GzipBytes(bytes, keepFrom, forward);
}
