// source.fits over S3 against a real local S3 server behind a counting proxy: the same rows as
// reading the same files locally (images, binary tables, CHECKSUM verified), and one HDU of a
// multi-HDU file fetched without the rest of the object.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type RecordBatch, Table, tableToIPC } from 'apache-arrow';
import { beforeAll, describe, expect, test } from 'vitest';
import { fitsSource } from '../../../connectors/fits/source.ts';
import { S3Client } from '../../../src/io/s3-client.ts';
import type { Chunk } from '../../../src/workflow/stage.ts';
import { bucket, useCountingProxy, useS3Environment, useS3Server } from '../../cache/s3-server.ts';
import { repoRoot } from '../../helpers.ts';
import * as harness from '../stage-harness.ts';

const s3 = useS3Server();
const proxy = useCountingProxy(s3);
useS3Environment(s3, () => proxy.endpoint);

const dataDir = join(repoRoot, 'data', 'astronomy');
const files = ['astroquery_ukidss_wfcam_K_cutout.fits', 'hmi.sharp_cea_720s.377.20110215_020000_TAI.Br.fits', 'sunpy_go1520110607.fits'];

beforeAll(async () => {
  const client = new S3Client(s3.config({ prefix: '' }));
  for (const file of files) await client.call('PUT', `fits/${file}`, { body: readFileSync(join(dataDir, file)) });
});

/** The batches as IPC bytes, without `_source` (a path locally, the s3:// URL here). */
const bytesOf = (batches: RecordBatch[]) =>
  Buffer.from(tableToIPC(new Table(batches.map((b) => b.select(b.schema.fields.map((f) => f.name).filter((n) => n !== '_source')))))).toString('base64');

describe('source.fits reads s3://bucket/prefix/*.fits', () => {
  for (const file of files) {
    test(`${file}: the rows read locally`, async () => {
      const local = await harness.readSource(fitsSource, { path: file }, dataDir);
      const remote = await harness.readSource(fitsSource, { path: `s3://${bucket}/fits/${file}` }, dataDir);
      expect(remote.partitions.map((p) => p.key)).toEqual([`s3://${bucket}/fits/${file}`]);
      expect(remote.schema.fields.map(String)).toEqual(local.schema.fields.map(String));
      expect(remote.partitions[0].chunks).toBe(local.partitions[0].chunks);
      expect(bytesOf(remote.partitions[0].batches)).toBe(bytesOf(local.partitions[0].batches));
    });
  }

  test('one small HDU of a large object: its header and data fetched, by ranged GETs, not the object', async () => {
    const file = 'sunpy_go1520110607.fits';
    const size = readFileSync(join(dataDir, file)).byteLength;
    const params = fitsSource.params.parse({ path: `s3://${bucket}/fits/${file}`, hdu: 3 });
    const { schema, partitions } = await fitsSource.discover(params, { baseDir: dataDir });
    proxy.served.length = 0;
    const chunks = [...(partitions[0].chunks() as Iterable<Chunk>)];
    let rows = 0;
    for (const chunk of chunks) {
      for await (const batch of fitsSource.read(chunk, params, { schema, partition: { index: 0, key: partitions[0].key } })) rows += batch.numRows;
    }
    expect(rows).toBeGreaterThan(0);
    expect(proxy.served.length).toBeGreaterThan(0);
    expect(proxy.served.every((r) => r.method === 'GET' && r.range !== undefined)).toBe(true);
    expect(proxy.served.reduce((n, r) => n + r.bytes, 0)).toBeLessThan(size / 50);
  });
});
