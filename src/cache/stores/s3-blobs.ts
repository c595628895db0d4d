// Blobs in a bucket: PREFIX/blobs/SHA256. An object appears whole or not at all, so a reader that
// the broker told of a blob sees all of it; writing a name twice writes the same bytes.
import { createHash } from 'node:crypto';
import type { BlobEntry, Blobs } from '../blobs.ts';
import { S3Client, type S3Config } from './s3-client.ts';

export class S3Blobs implements Blobs {
  private readonly client: S3Client;
  readonly location: string;

  constructor(config: S3Config) {
    this.client = new S3Client(config);
    this.location = this.client.where();
  }

  async put(bytes: Uint8Array): Promise<string> {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    // Signed with the bytes' own sha256: the server refuses bytes that changed on the way.
    await this.client.call('PUT', this.client.key(`blobs/${sha256}`), { body: bytes, sha256 });
    return sha256;
  }

  async get(sha256: string): Promise<Uint8Array | undefined> {
    const response = await this.client.send('GET', this.client.key(`blobs/${sha256}`), { expect: [404] });
    // An expected failure comes back with its body already read (s3-client.ts).
    return response.status === 404 ? undefined : new Uint8Array(await response.arrayBuffer());
  }

  async *list(): AsyncGenerator<BlobEntry> {
    const prefix = this.client.key('blobs/');
    for await (const object of this.client.list(prefix)) yield { name: object.key.slice(prefix.length), bytes: object.size, modifiedMs: Date.parse(object.lastModified) };
  }

  async remove(entry: BlobEntry): Promise<void> {
    await this.client.call('DELETE', this.client.key(`blobs/${entry.name}`), { expect: [404] });
  }
}
