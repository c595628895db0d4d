// One S3 object read by ranged GETs: the bytes a reader asks for, never the whole object unless it
// asks for all of it. A chunk carries only the object's reference (bucket, key, size, ETag and
// version); each worker signs its own requests with the AWS credentials of its environment, so
// they never travel in a task. Every GET is pinned to the object listed: by version id where the
// bucket keeps versions, and by its ETag (If-Match, and the ETag of the answer checked, as some
// S3-compatible servers ignore If-Match), so a rewritten object fails the task instead of mixing
// old and new bytes.
import { InputError, messageOf } from '../workflow/errors.ts';
import { configFromEnv, S3Client, S3Error } from '../cache/stores/s3-client.ts';
import type { ByteReader } from './byte-reader.ts';
import { checkTaskMemory } from './limits.ts';

/** What identifies one S3 object as read: what a chunk carries instead of its bytes. */
export interface S3ObjectRef {
  bucket: string;
  key: string;
  size: number;
  etag: string;
  versionId?: string;
}

export const s3Url = (ref: { bucket: string; key: string }) => `s3://${ref.bucket}/${ref.key}`;

/**
 * The object's identity in cache keys: its ETag (a digest of what was written, new on every
 * write), size and version id. No content hash: that would mean reading every object whole.
 */
export const s3Identity = (ref: S3ObjectRef) => `s3 ${ref.etag} ${ref.size} ${ref.versionId ?? ''}`;

const clients = new Map<string, S3Client>();

/** A client for `bucket`, its endpoint and credentials read from this process's environment. */
export function inputClient(bucket: string): S3Client {
  let client = clients.get(bucket);
  const config = configFromEnv(`s3://${bucket}`, process.env, 'input');
  // Keyed by the whole configuration: tests (and long-lived processes) may change the environment.
  const same = client && JSON.stringify(client.config) === JSON.stringify(config);
  if (!same) clients.set(bucket, (client = new S3Client(config)));
  return client!;
}

/** Failures worth another try: the server unreachable, busy or failing, not an answer about the object. */
export const transientS3 = (error: unknown) => error instanceof S3Error && (error.status === undefined || error.status === 429 || error.status >= 500);

export class S3ObjectBytes implements ByteReader {
  readonly ref: S3ObjectRef;
  readonly name: string;
  readonly size: number;
  /** Byte ranges held after `load`, which reads inside them are served from. */
  private windows: { start: number; bytes: Uint8Array }[] = [];
  /** Bytes this reader fetched, all GETs together. */
  fetched = 0;

  constructor(ref: S3ObjectRef, private readonly client = inputClient(ref.bucket)) {
    this.ref = { ...ref };
    this.name = s3Url(ref);
    this.size = ref.size;
  }

  get identity(): string {
    return `${this.name}\0${s3Identity(this.ref)}`;
  }

  /** Fetches [start, end) in one GET and keeps it, for the reads that follow. */
  async load(start: number, end: number, what: string): Promise<void> {
    start = Math.max(0, start);
    end = Math.min(this.size, end);
    if (end <= start || this.window(start, end - start)) return;
    this.windows.push({ start, bytes: await this.get(start, end, what) });
  }

  /** Lets go of the window `load(start, …)` fetched: a row group's bytes once it is read. */
  release(start: number): void {
    this.windows = this.windows.filter((w) => w.start !== Math.max(0, start));
  }

  async read(position: number, length: number, what: string): Promise<Uint8Array> {
    return this.window(position, length) ?? this.get(position, position + length, what);
  }

  /** Duck-typed as parquet-wasm uses a Blob: `size`, and `slice(a, b).arrayBuffer()`. */
  async blob(): Promise<Blob> {
    const slice = (start = 0, end = this.size) => ({
      arrayBuffer: async () => {
        const bytes = await this.read(start, Math.max(0, Math.min(end, this.size) - start), `bytes ${start}-${end}`);
        return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
      },
    });
    return { size: this.size, slice } as unknown as Blob;
  }

  async close(): Promise<void> {
    this.windows = [];
  }

  private window(position: number, length: number): Uint8Array | undefined {
    const w = this.windows.find((w) => position >= w.start && position + length <= w.start + w.bytes.byteLength);
    return w && w.bytes.subarray(position - w.start, position - w.start + length);
  }

  /** Bytes [start, end) by a ranged GET pinned to the object listed, tried again on transient failures. */
  private async get(start: number, end: number, what: string): Promise<Uint8Array> {
    if (end > this.size) throw new InputError(this.name, `truncated: ${what} needs bytes ${start}-${end} but the object has ${this.size}`);
    checkTaskMemory(this.name, what, end - start);
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.getOnce(start, end, what);
      } catch (error) {
        if (!transientS3(error) || attempt >= 2) throw this.named(error);
        await new Promise((resolve) => setTimeout(resolve, 200 * 4 ** attempt));
      }
    }
  }

  private async getOnce(start: number, end: number, what: string): Promise<Uint8Array> {
    if (end === start) return new Uint8Array(0);
    const { key, etag, versionId } = this.ref;
    const response = await this.client.send('GET', key, {
      query: versionId ? { versionId } : undefined,
      headers: { Range: `bytes=${start}-${end - 1}`, 'If-Match': etag },
      expect: [404, 412, 416],
    });
    const changed = () => new InputError(this.name, `changed since it was listed (ETag was ${etag}); run again to read the new object`);
    if (response.status === 404) throw new InputError(this.name, 'the object is gone (it was listed, then removed)');
    if (response.status === 412) throw changed();
    if (response.status === 416) throw new InputError(this.name, `truncated: ${what} needs bytes ${start}-${end} but the object is shorter`);
    // Listings give no version ids: the first answer pins the version (on a bucket that keeps them).
    this.ref.versionId ??= response.headers.get('x-amz-version-id') ?? undefined;
    const got = response.headers.get('etag');
    if (got && got !== etag) {
      await response.body?.cancel();
      throw changed();
    }
    // A server that ignores Range answers 200 with the whole object: take what was asked of it.
    const offset = response.status === 206 ? 0 : start;
    const body = new Uint8Array(await response.arrayBuffer());
    this.fetched += body.byteLength;
    const bytes = body.subarray(offset, offset + end - start);
    if (bytes.byteLength < end - start) {
      throw new InputError(this.name, `truncated: ${what} needs bytes ${start}-${end} but the object ends at byte ${start + bytes.byteLength}`);
    }
    return bytes;
  }

  /** An S3 failure as an error about this object (a 403 or 404 is the object's, like a bad file). */
  private named(error: unknown): unknown {
    if (!(error instanceof S3Error) || transientS3(error)) return error;
    return new InputError(this.name, messageOf(error).replace(/^S3 (\w+) s3:\/\/\S+ /, 'S3 $1 '));
  }
}
