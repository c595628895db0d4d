// A cache stream as one S3 object, in the stream file's format (stream-file.ts). Written whole, so
// that it appears complete or not at all: a stream under one part is one PUT at commit; a larger
// one goes up part by part as a multipart upload while the run goes on, and the upload's completion
// is the commit. Read back with one GET, record by record as the body arrives.
import type { RecordBatch, Schema } from 'apache-arrow';
import { decodeBatches } from '../../arrow/ipc.ts';
import type { StreamWriter } from '../store.ts';
import { RecordPacker } from '../stream-file.ts';
import { type S3Client, unescapeXml } from '../../io/s3-client.ts';

/** Parts of about 8 MiB (S3 wants at least 5 MiB but the last): 10,000 parts allow 80 GB a stream. */
const partBytes = 8 << 20;

export class S3StreamWriter implements StreamWriter {
  private readonly packer: RecordPacker;
  private part: Uint8Array[] = [];
  private partLength = 0;
  private uploadId?: string;
  private readonly etags: string[] = [];
  /** Parts go up one at a time, in order; a failure stays on this chain until commit or abort. */
  private sending: Promise<void> = Promise.resolve();
  private inFlight = 0;

  constructor(private readonly client: S3Client, private readonly key: string, schema: Schema) {
    this.packer = new RecordPacker(schema);
  }

  /** Returns a promise only when a part is full while the one before is still going up. */
  write(batch: RecordBatch): Promise<void> | undefined {
    const record = this.packer.add(batch);
    if (record) this.append(record);
    return this.partLength >= partBytes ? this.sendPart() : undefined;
  }

  async commit(): Promise<void> {
    this.append(this.packer.end());
    if (this.etags.length === 0 && this.inFlight === 0) {
      await this.client.call('PUT', this.key, { body: this.takePart(), headers: octets });
      return;
    }
    this.sendPart();
    try {
      await this.sending;
      const parts = this.etags.map((etag, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${etag}</ETag></Part>`).join('');
      const response = await this.client.send('POST', this.key, {
        query: { uploadId: this.uploadId! }, body: `<CompleteMultipartUpload>${parts}</CompleteMultipartUpload>`,
      });
      // S3 may answer 200 and still fail, in the body.
      const text = await response.text();
      if (text.includes('<Error>')) throw this.client.failure('POST', this.key, response.status, text);
    } catch (e) {
      await this.abort();
      throw e;
    }
  }

  async abort(): Promise<void> {
    this.part = [];
    this.partLength = 0;
    await this.sending.catch(() => undefined);
    // Best effort (s3rver, for one, cannot abort): the parts of an upload never completed nor
    // aborted stay invisible, and billed until a bucket lifecycle rule drops them.
    if (this.uploadId) await this.client.call('DELETE', this.key, { query: { uploadId: this.uploadId } }).catch(() => undefined);
    this.uploadId = undefined;
  }

  private append(parts: Uint8Array[]): void {
    for (const p of parts) {
      this.part.push(p);
      this.partLength += p.byteLength;
    }
  }

  private takePart(): Uint8Array {
    const body = Buffer.concat(this.part, this.partLength);
    this.part = [];
    this.partLength = 0;
    return body;
  }

  private sendPart(): Promise<void> | undefined {
    const body = this.takePart();
    const number = this.etags.length + this.inFlight + 1;
    const behind = this.inFlight > 0 ? this.sending : undefined;
    this.inFlight++;
    this.sending = this.sending.then(async () => {
      this.uploadId ??= await this.startUpload();
      const response = await this.client.call('PUT', this.key, { query: { partNumber: String(number), uploadId: this.uploadId }, body });
      this.etags.push(response.headers.get('etag')!);
      this.inFlight--;
    });
    this.sending.catch(() => undefined);
    return behind;
  }

  private async startUpload(): Promise<string> {
    const response = await this.client.send('POST', this.key, { query: { uploads: '' }, headers: octets });
    const id = /<UploadId>([^<]*)<\/UploadId>/.exec(await response.text())?.[1];
    if (!id) throw new Error(`S3 POST ${this.client.where(this.key)}?uploads: no UploadId in the answer`);
    return unescapeXml(id);
  }
}

const octets = { 'Content-Type': 'application/octet-stream' };

/** The batches of a stream object, in order; fails if it is cut short. */
export async function* readStreamObject(client: S3Client, key: string): AsyncGenerator<RecordBatch> {
  const response = await client.send('GET', key);
  const body = new BodyReader(response.body!);
  try {
    for (;;) {
      const header = await body.take(8);
      if (!header) throw cutShort(client, key, body.position);
      const length = Number(new DataView(header.buffer, header.byteOffset, 8).getBigUint64(0, true));
      if (length === 0) return;
      const bytes = await body.take(length);
      if (!bytes) throw cutShort(client, key, body.position);
      yield* decodeBatches(bytes).batches;
    }
  } finally {
    await body.close();
  }
}

/** Entries are complete or absent in S3: a cut one was damaged after it was written. */
const cutShort = (client: S3Client, key: string, position: number) =>
  new Error(`cache entry ${client.where(key)} is cut short at byte ${position}; ` +
    'run again with --no-cache, or delete the entry');

/** Takes a response body a given number of bytes at a time. */
class BodyReader {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  position = 0;

  constructor(body: ReadableStream<Uint8Array>) {
    this.reader = body.getReader();
  }

  /** The next `n` bytes, or undefined if the body ends first. */
  async take(n: number): Promise<Uint8Array | undefined> {
    while (this.buffered < n) {
      const { done, value } = await this.reader.read();
      if (done) return undefined;
      this.chunks.push(value);
      this.buffered += value.byteLength;
    }
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.buffered);
    this.chunks = all.byteLength > n ? [all.subarray(n)] : [];
    this.buffered -= n;
    this.position += n;
    return all.subarray(0, n);
  }

  close(): Promise<void> {
    return this.reader.cancel();
  }
}
