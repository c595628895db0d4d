// A store in an S3 bucket (issue 17), for runs on several machines that share a cache:
//   PREFIX/streams/KEY.qstream  stream entries (s3-stream.ts)
//   PREFIX/records/KEY.json     task records
//   PREFIX/sinks/KEY.json       sink records
//   PREFIX/files/SHA256         kept files' bytes
// Every object is written by one PUT (or one completed multipart upload), so it appears complete or
// not at all. No conditional writes: entries are content-addressed, so a second writer of a key
// writes the same bytes, and S3-compatible servers that ignore If-None-Match work too.
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeWebStream } from 'node:stream/web';
import type { RecordBatch, Schema } from 'apache-arrow';
import { makeFolder } from '../../io/make-folder.ts';
import type { FileStamp, RecordKind, Store, StoreEntry } from '../store.ts';
import { S3Client, type S3Config } from './s3-client.ts';
import { readStreamObject, S3StreamWriter } from './s3-stream.ts';

/** Kept files carry the stamp of the output they came from, for `hasFile`. */
const mtimeHeader = 'x-amz-meta-quiver-mtime-ms';

const folders = { stream: 'streams', task: 'records', sink: 'sinks', file: 'files' } as const;

export class S3Store implements Store {
  private readonly client: S3Client;
  readonly location: string;

  constructor(config: S3Config) {
    this.client = new S3Client(config);
    this.location = this.client.where();
  }

  private objectKey(kind: StoreEntry['kind'], key: string): string {
    const suffix = kind === 'stream' ? '.qstream' : kind === 'file' ? '' : '.json';
    return this.client.key(`${folders[kind]}/${key}${suffix}`);
  }

  async hasStream(key: string): Promise<boolean> {
    return (await this.head(this.objectKey('stream', key))) !== undefined;
  }

  writeStream(key: string, schema: Schema): S3StreamWriter {
    return new S3StreamWriter(this.client, this.objectKey('stream', key), schema);
  }

  readStream(key: string): AsyncGenerator<RecordBatch> {
    return readStreamObject(this.client, this.objectKey('stream', key));
  }

  async readRecord<T>(kind: RecordKind, key: string): Promise<T | undefined> {
    const response = await this.client.send('GET', this.objectKey(kind, key), { expect: [404] });
    if (response.status === 404) return undefined;
    try {
      return JSON.parse(await response.text()) as T;
    } catch {
      return undefined; // damaged: as good as absent
    }
  }

  async writeRecord(kind: RecordKind, key: string, value: unknown): Promise<void> {
    await this.client.call('PUT', this.objectKey(kind, key), { body: JSON.stringify(value), headers: { 'Content-Type': 'application/json' } });
  }

  async keepFile(path: string, sha256: string): Promise<FileStamp> {
    const objectKey = this.objectKey('file', sha256);
    const { size, mtimeMs } = statSync(path);
    // Outputs with the same bytes share one object: upload only when it is not there yet.
    const there = await this.head(objectKey);
    if (there && there.bytes === size && Number.isFinite(there.mtimeMs)) return there;
    // Streamed, and signed with its sha256 so that S3 refuses bytes that changed on the way.
    await this.client.call('PUT', objectKey, {
      body: Readable.toWeb(createReadStream(path)) as ReadableStream<Uint8Array>, sha256,
      headers: { 'Content-Length': String(size), 'Content-Type': 'application/octet-stream', [mtimeHeader]: String(mtimeMs) },
    });
    return { bytes: size, mtimeMs };
  }

  async hasFile(sha256: string, stamp?: FileStamp): Promise<boolean> {
    const there = await this.head(this.objectKey('file', sha256));
    return !!there && (!stamp || (there.bytes === stamp.bytes && there.mtimeMs === stamp.mtimeMs));
  }

  async restoreFile(sha256: string, path: string): Promise<void> {
    const response = await this.client.send('GET', this.objectKey('file', sha256));
    makeFolder(dirname(path));
    // Named after its target: sinks restore into one folder at the same time.
    const temp = join(dirname(path), `.${basename(path)}.${process.pid}.restore.tmp`);
    try {
      await pipeline(Readable.fromWeb(response.body as NodeWebStream), createWriteStream(temp));
      await rename(temp, path);
    } finally {
      await rm(temp, { force: true });
    }
  }

  async *list(): AsyncGenerator<StoreEntry> {
    const prefix = this.client.key('');
    for await (const object of this.client.list(prefix)) {
      const [folder, file] = object.key.slice(prefix.length).split('/');
      const kind = (Object.keys(folders) as StoreEntry['kind'][]).find((k) => folders[k] === folder);
      // Names are KEY.qstream, KEY.json or SHA256: the key is what comes before the first dot.
      if (kind && file) yield { kind, key: file.split('.')[0], bytes: object.size };
    }
  }

  async remove(entry: StoreEntry): Promise<void> {
    await this.client.call('DELETE', this.objectKey(entry.kind, entry.key), { expect: [404] });
  }

  /** An object's size and kept-file stamp, or undefined if it is absent. */
  private async head(objectKey: string): Promise<FileStamp | undefined> {
    const response = await this.client.call('HEAD', objectKey, { expect: [404] });
    if (response.status === 404) return undefined;
    return { bytes: Number(response.headers.get('content-length')), mtimeMs: Number(response.headers.get(mtimeHeader) ?? NaN) };
  }
}
