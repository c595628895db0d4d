// The S3 store beyond the Store contract (store.test.ts), against a real local S3 server: failures
// that say what is wrong without the secret, streams large enough for a multipart upload, opening a
// store from its location, and a workflow whose second run, in a fresh folder, comes from the bucket.
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import { Field, Float64, Int32, Schema, vectorFromArray } from 'apache-arrow';
import { afterAll, describe, expect, test } from 'vitest';
import { makeBatch } from '../../src/arrow/batch.ts';
import type { Store } from '../../src/cache/store.ts';
import { FsStore } from '../../src/cache/stores/fs.ts';
import { openStore } from '../../src/cache/stores/open-store.ts';
import { S3Client } from '../../src/io/s3-client.ts';
import { S3Store } from '../../src/cache/stores/s3.ts';
import { LocalExecutor } from '../../src/engine/executors/local.ts';
import { runWorkflow } from '../../src/engine/run-workflow.ts';
import { builtinCatalog } from '../../src/stages/index.ts';
import { scratchDir } from '../helpers.ts';
import { bucket, useS3Server } from './s3-server.ts';
import { outputHashes, taskCounts, writeText } from './util.ts';

const s3 = useS3Server();
const key = (c: string) => c.repeat(64);
const schema = new Schema([new Field('id', new Int32(), false), new Field('x', new Float64(), false)]);
const batch = (from: number, n: number) => makeBatch(schema, [
  vectorFromArray(Array.from({ length: n }, (_, i) => from + i), new Int32()).data[0],
  vectorFromArray(Array.from({ length: n }, (_, i) => (from + i) / 4), new Float64()).data[0],
], n);

/** A port nothing listens on: one just freed. */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function readAll(store: Store, k: string) {
  const batches = [];
  for await (const b of store.readStream(k)) batches.push(b);
  return batches;
}

async function listed(store: Store) {
  const all = [];
  for await (const e of store.list()) all.push([e.kind, e.key]);
  return all;
}

describe('S3 failures name the object and the status, never the secret', () => {
  test('wrong credentials', async () => {
    // s3rver checks the access key id but not V4 signatures: a wrong secret alone passes there.
    const secret = 'wrong-secret-0123456789';
    const store = new S3Store(s3.config({ prefix: 'creds', accessKeyId: 'NOBODY', secretAccessKey: secret }));
    const error = await store.writeRecord('task', key('a'), { rowsIn: 1 }).catch((e: Error) => e);
    expect(String(error)).toMatch(new RegExp(`PUT s3://${bucket}/creds/records/${key('a')}\\.json failed with HTTP 403 \\(InvalidAccessKeyId`));
    expect(String(error)).toMatch(/check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY/);
    expect(String(error)).not.toContain(secret);
    expect(String(error)).not.toMatch(/Signature=|Credential=|StringToSign/);
    // Reads fail too, rather than passing for a cache miss.
    await expect(store.readRecord('task', key('a'))).rejects.toThrow(/HTTP 403/);
    await expect(store.hasStream(key('a'))).rejects.toThrow(/HEAD .* failed with HTTP 403: check AWS_ACCESS_KEY_ID/);
  });

  test('a bucket that does not exist, or an endpoint that does not answer', async () => {
    const store = new S3Store(s3.config({ bucket: 'no-such-bucket' }));
    await expect(store.readRecord('task', key('b'))).rejects.toThrow(/GET s3:\/\/no-such-bucket\/.* failed with HTTP 404 \(NoSuchBucket.*bucket 'no-such-bucket' does not exist/);
    await expect(store.writeRecord('task', key('b'), {})).rejects.toThrow(/bucket 'no-such-bucket' does not exist/);
    const port = await closedPort();
    const nowhere = new S3Store(s3.config({ endpoint: `http://127.0.0.1:${port}` }));
    await expect(nowhere.readRecord('task', key('b'))).rejects.toThrow(new RegExp(`GET s3://quiver-test/.* cannot reach http://127\\.0\\.0\\.1:${port} \\(.*ECONNREFUSED`));
  });
});

describe('the S3 store', () => {
  test('a stream of several parts goes up as a multipart upload, visible only once complete', async () => {
    const store = new S3Store(s3.config());
    // About 24 MiB: three parts of 8 MiB.
    const written = Array.from({ length: 20 }, (_, i) => batch(i * 100_000, 100_000));
    const writer = store.writeStream(key('c'), schema);
    for (const b of written) await writer.write(b);
    expect(await store.hasStream(key('c'))).toBe(false);
    await writer.commit();
    let rows = 0;
    let last = -1;
    for await (const b of store.readStream(key('c'))) {
      expect(b.getChild('id')!.get(0)).toBe(last + 1);
      last = b.getChild('id')!.get(b.numRows - 1);
      rows += b.numRows;
    }
    expect([rows, last]).toEqual([2_000_000, 1_999_999]);

    const aborted = store.writeStream(key('d'), schema);
    for (const b of written) await aborted.write(b);
    await aborted.abort();
    expect(await store.hasStream(key('d'))).toBe(false);
    expect(await listed(store)).toEqual([['stream', key('c')]]);
  });

  test('a stream object cut short fails with its name', async () => {
    const config = s3.config();
    const store = new S3Store(config);
    const writer = store.writeStream(key('f'), schema);
    await writer.write(batch(0, 1000));
    await writer.commit();
    const client = new S3Client(config);
    const name = client.key(`streams/${key('f')}.qstream`);
    const whole = new Uint8Array(await (await client.send('GET', name)).arrayBuffer());
    await client.call('PUT', name, { body: whole.subarray(0, whole.byteLength - 100) });
    await expect(readAll(store, key('f'))).rejects.toThrow(new RegExp(`cache entry s3://${bucket}/${name} is cut short at byte 8`));
  });

  test('listing goes on past a page of 1,000 objects', async () => {
    const store = new S3Store(s3.config());
    const keys = Array.from({ length: 1010 }, (_, i) => i.toString(16).padStart(64, '0'));
    for (let i = 0; i < keys.length; i += 50) await Promise.all(keys.slice(i, i + 50).map((k) => store.writeRecord('task', k, {})));
    expect((await listed(store)).map(([, k]) => k).sort()).toEqual(keys);
  });

  test('openStore: a folder, or s3://bucket/prefix with the AWS environment variables', async () => {
    expect(openStore('out/cache', {})).toBeInstanceOf(FsStore);
    expect(openStore(`s3://${bucket}/team/cache/`, s3.env()).location).toBe(`s3://${bucket}/team/cache`);
    expect(() => openStore(`s3://${bucket}/x`, {})).toThrow(/set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/);
    const store = openStore(`s3://${bucket}/opened`, { ...s3.env(), AWS_ENDPOINT_URL: 'http://127.0.0.1:9', AWS_ENDPOINT_URL_S3: s3.endpoint });
    await store.writeRecord('sink', key('e'), { outputs: [] });
    expect(await store.readRecord('sink', key('e'))).toEqual({ outputs: [] });
  });

  test('a second run in a fresh folder is served from the bucket, to the same bytes', async () => {
    const root = scratchDir('quiver-s3-run-');
    const file = writeText(join(root, 'numbers.yaml'), `name: numbers
stages:
  - id: gen
    use: source.generate
    with: { partitions: 3, rows: 2000, batchRows: 500, columns: { id: int64, x: float64 } }
  - id: scaled
    use: table.derive
    from: gen
    with: { columns: { y: "x * 2 + 1" } }
  - id: parts
    use: sink.csv
    from: scaled
    with: { path: parts/ }
  - id: all
    use: sink.parquet
    from: scaled
    with: { path: all.parquet }
`);
    const executor = new LocalExecutor({ workers: 1 });
    afterAll(() => executor.close());
    const config = s3.config();
    // A store object of its own per run, as another machine would have.
    const runIn = (out: string, store = new S3Store(config)) => runWorkflow(file, { catalog: builtinCatalog, out, executor, store });
    const run = async (out: string) => {
      const summary = await runIn(out);
      expect(summary.status, summary.error).toBe('ok');
      return summary;
    };
    const first = taskCounts(await run(join(root, 'out-1')));
    expect(Object.values(first).map(([, cached]) => cached)).toEqual([0, 0, 0, 0]);
    // Every task cached: [tasks, cached] is [n, n] for every stage.
    const second = taskCounts(await run(join(root, 'out-2')));
    expect(second).toEqual(Object.fromEntries(Object.entries(first).map(([id, [tasks]]) => [id, [tasks, tasks]])));
    const outputs = outputHashes(join(root, 'out-1'));
    expect(Object.keys(outputs).sort()).toEqual(['all.parquet', 'parts/generated-00000.csv', 'parts/generated-00001.csv', 'parts/generated-00002.csv']);
    expect(outputHashes(join(root, 'out-2'))).toEqual(outputs);

    const missing = await runIn(join(root, 'out-3'), new S3Store({ ...config, bucket: 'no-such-bucket' }));
    expect(missing.status).toBe('failed');
    expect(missing.error).toMatch(/bucket 'no-such-bucket' does not exist/);
  });
});
