// source.parquet over S3 (issue 17: inputs travel as references), against a real local S3 server
// behind a small HTTP proxy that counts what it serves: the same outputs as reading the same files
// locally, one row group fetched without the rest of its object, a rewritten object run again,
// prefixes read only where allowed, and unreadable objects named by their s3:// URL (quarantined
// under onError: quarantine).
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parquetSource } from '../../../connectors/parquet/source.ts';
import { S3Client } from '../../../src/io/s3-client.ts';
import { LocalExecutor } from '../../../src/engine/executors/local.ts';
import { runWorkflow } from '../../../src/engine/run-workflow.ts';
import type { Manifest } from '../../../src/provenance/manifest.ts';
import { parseS3, s3PathOutside } from '../../../src/workflow/s3-url.ts';
import { builtinCatalog } from '../../../src/stages/index.ts';
import type { Chunk } from '../../../src/workflow/stage.ts';
import { duckdb, scratchDir } from '../../helpers.ts';
import { bucket, useCountingProxy, useS3Environment, useS3Server } from '../../cache/s3-server.ts';
import { outputHashes, taskCounts, writeText } from '../../cache/util.ts';

const s3 = useS3Server();
const root = scratchDir('quiver-s3-inputs-');

const proxy = useCountingProxy(s3);
const served = proxy.served;
useS3Environment(s3, () => proxy.endpoint);
let executor: LocalExecutor;

const client = () => new S3Client(s3.config({ prefix: '' }));
const put = (key: string, body: Uint8Array) => client().call('PUT', key, { body });

/** A Parquet file by DuckDB: `rows` rows in row groups of `group`, with a poorly compressible string column. */
async function parquetFile(name: string, rows: number, group: number, salt = 0): Promise<string> {
  const path = join(root, 'data', name);
  mkdirSync(join(root, 'data'), { recursive: true });
  await duckdb(`COPY (SELECT i::INTEGER AS id, i / 7 + ${salt} AS x, md5((i + ${salt})::VARCHAR) AS s FROM range(${rows}) t(i))
    TO '${path}' (FORMAT PARQUET, COMPRESSION ZSTD, ROW_GROUP_SIZE ${group})`);
  return path;
}

const workflow = (name: string, path: string, onError = 'fail') => writeText(join(root, `${name}.yaml`), `name: ${name}
stages:
  - id: read
    use: source.parquet
    with: { path: "${path}", batchRows: 10000 }
    onError: ${onError}
  - id: scaled
    use: table.derive
    from: read
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

const allow = [`s3://${bucket}/in`];
const run = (file: string, out: string, allowPaths = allow) => runWorkflow(file, { catalog: builtinCatalog, out: join(root, out), executor, allowPaths });

beforeAll(async () => {
  // After the environment is set: worker threads take theirs when they start.
  executor = new LocalExecutor({ workers: 2 });
  for (const [name, rows, group] of [['a.parquet', 200_000, 50_000], ['b.parquet', 10_000, 4_000]] as const) {
    await put(`in/${name}`, readFileSync(await parquetFile(name, rows, group)));
  }
});

afterAll(() => executor?.close());

describe('source.parquet reads s3://bucket/prefix/*.parquet', () => {
  test('the same outputs, byte for byte, as reading the same files locally', async () => {
    const local = await run(workflow('local', 'data/*.parquet'), 'out-local');
    expect(local.status, local.error).toBe('ok');
    const remote = await run(workflow('remote', `s3://${bucket}/in/*.parquet`), 'out-s3');
    expect(remote.status, remote.error).toBe('ok');
    const outputs = outputHashes(join(root, 'out-local'));
    expect(Object.keys(outputs).sort()).toEqual(['all.parquet', 'parts/a.csv', 'parts/b.csv']);
    expect(outputHashes(join(root, 'out-s3'))).toEqual(outputs);
    // One partition per object, as per file locally.
    expect(taskCounts(remote).read).toEqual([2, 0]);
    // The run record names each object by URL and ETag (no sha256: that would mean reading it whole).
    const manifest = JSON.parse(readFileSync(remote.manifest, 'utf8')) as Manifest;
    const size = readFileSync(join(root, 'data', 'a.parquet')).byteLength;
    expect(manifest.inputs[0]).toEqual({ stage: 'read', path: `s3://${bucket}/in/a.parquet`, bytes: size, etag: expect.stringMatching(/^"[0-9a-f]{32}"$/) });
  });

  test('one row group is one ranged GET of its bytes (and one of the footer), far less than the object', async () => {
    const size = readFileSync(join(root, 'data', 'a.parquet')).byteLength;
    served.length = 0;
    const params = parquetSource.params.parse({ path: `s3://${bucket}/in/a.parquet` });
    const { schema, partitions } = await parquetSource.discover(params, { baseDir: root });
    const discovery = served.splice(0);
    // A listing, then the end of the object (and its first bytes, for the magic): no whole-object GET.
    expect(discovery.every((r) => r.method === 'GET' && (r.range !== undefined || r.path.includes('prefix=')))).toBe(true);
    expect(discovery.reduce((n, r) => n + r.bytes, 0)).toBeLessThan(size / 10);

    const chunks: Chunk[] = [...(partitions[0].chunks() as Iterable<Chunk>)];
    expect(chunks).toHaveLength(4);
    expect(JSON.stringify(chunks[2])).not.toMatch(/S3RVER|secret/i); // a reference, no credentials
    let rows = 0;
    for await (const batch of parquetSource.read(chunks[2], params, { schema, partition: { index: 0, key: partitions[0].key } })) rows += batch.numRows;
    expect(rows).toBe(chunks[2].rows);
    // What a worker fetches: the footer, then the row group's bytes; nothing else.
    const { start, end, tail } = chunks[2].s3 as { start: number; end: number; tail: number };
    expect(served.map((r) => r.range)).toEqual([`bytes=${size - tail}-${size - 1}`, `bytes=${start}-${end - 1}`]);
    const fetched = served.reduce((n, r) => n + r.bytes, 0);
    expect(fetched).toBe(tail + end - start);
    expect(fetched).toBeLessThan(size / 3);
  });

  test('a rewritten object runs again; the others stay cached', async () => {
    const file = workflow('rerun', `s3://${bucket}/in/*.parquet`);
    expect((await run(file, 'out-rerun')).status).toBe('ok');
    const cached = await run(file, 'out-rerun');
    expect(taskCounts(cached).read).toEqual([2, 2]);
    const before = outputHashes(join(root, 'out-rerun'));
    await put('in/b.parquet', readFileSync(await parquetFile('b2.parquet', 10_000, 4_000, 1)));
    const after = await run(file, 'out-rerun');
    expect(after.status, after.error).toBe('ok');
    expect(taskCounts(after).read).toEqual([2, 1]); // b read again, a from the cache
    const now = outputHashes(join(root, 'out-rerun'));
    expect(now['parts/a.csv']).toBe(before['parts/a.csv']);
    expect(now['parts/b.csv']).not.toBe(before['parts/b.csv']);
    // Put back, for the tests that follow.
    await put('in/b.parquet', readFileSync(join(root, 'data', 'b.parquet')));
  });

  test('an object rewritten between listing and reading fails its task, naming it', async () => {
    const url = `s3://${bucket}/in/b.parquet`;
    const params = parquetSource.params.parse({ path: url });
    const { schema, partitions } = await parquetSource.discover(params, { baseDir: root });
    await put('in/b.parquet', readFileSync(await parquetFile('b3.parquet', 10_000, 4_000, 2)));
    const chunk = [...(partitions[0].chunks() as Iterable<Chunk>)][0];
    const reading = (async () => {
      for await (const _ of parquetSource.read(chunk, params, { schema, partition: { index: 0, key: url } }));
    })();
    await expect(reading).rejects.toThrow(`${url}: changed since it was listed`);
    await put('in/b.parquet', readFileSync(join(root, 'data', 'b.parquet')));
  });
});

describe('S3 inputs are read only where allowed', () => {
  test('a prefix not allowed is refused before anything is listed', async () => {
    served.length = 0;
    const refused = await run(workflow('unlisted', `s3://${bucket}/in/*.parquet`), 'out-refused', []).catch((e: Error) => e);
    expect(String(refused)).toContain(`--allow-path s3://${bucket}/in`);
    expect(served).toEqual([]);
  });

  test('globs on keys mean what they mean on local paths', () => {
    const { prefix, matches } = parseS3(`s3://${bucket}/in/day-*/part-?.{parquet,pq}`);
    expect(prefix).toBe('in/day-');
    expect(['in/day-1/part-a.parquet', 'in/day-22/part-b.pq'].every(matches)).toBe(true);
    expect(['in/day-1/x/part-a.parquet', 'in/day-1/part-ab.parquet', 'in/day-1/part-a.csv', 'in/day-1/part-/.pq'].some(matches)).toBe(false);
    const deep = parseS3(`s3://${bucket}/in/**/*.parquet`);
    expect(['in/a.parquet', 'in/x/y/a.parquet'].every(deep.matches)).toBe(true);
    expect(deep.matches('inx/a.parquet')).toBe(false);
    expect(parseS3(`s3://${bucket}/in/[ab].parquet`).matches('in/b.parquet')).toBe(true);
    expect(parseS3(`s3://${bucket}/in/a.parquet`).matches('in/a.parquet')).toBe(true);
  });

  test('an allowed prefix covers whole segments of its bucket only', () => {
    expect(s3PathOutside(`s3://${bucket}/in/*.parquet`, [`s3://${bucket}/in`])).toBeUndefined();
    expect(s3PathOutside(`s3://${bucket}/in/deep/**/*.parquet`, [`s3://${bucket}`])).toBeUndefined();
    expect(s3PathOutside(`s3://${bucket}/inside/*.parquet`, [`s3://${bucket}/in`])).toMatch(/allow it: --allow-path s3:\/\/quiver-test\/inside/);
    expect(s3PathOutside(`s3://${bucket}/in*/x.parquet`, [`s3://${bucket}/in`])).toBeDefined();
    expect(s3PathOutside(`s3://other/in/*.parquet`, [`s3://${bucket}/in`])).toBeDefined();
    expect(s3PathOutside(`s3://${bucket}/in/../secret/*.parquet`, [`s3://${bucket}/in`])).toMatch(/'\.\.' segment/);
    expect(s3PathOutside(`s3://${bucket}/in/*.parquet`, [join(root, 'in')])).toBeDefined(); // a local folder allows no bucket
  });
});

describe('unreadable S3 inputs are named by their s3:// URL and stage', () => {
  beforeAll(async () => {
    const good = readFileSync(join(root, 'data', 'b.parquet'));
    await put('mixed/1-good.parquet', good);
    await put('mixed/2-cut.parquet', good.subarray(0, good.byteLength - 100));
    await put('mixed/3-junk.parquet', new TextEncoder().encode('id,x\n1,2\n'));
  });
  const mixed = `s3://${bucket}/mixed/*.parquet`;

  test('under fail: the first unreadable object stops the run, named', async () => {
    const summary = await run(workflow('mixed-fail', mixed), 'out-mixed-fail', [`s3://${bucket}/mixed`]);
    expect(summary.status).toBe('failed');
    expect(summary.error).toContain(`s3://${bucket}/mixed/2-cut.parquet: truncated: it starts with PAR1 but does not end with it`);
    expect(summary.error).toContain("stage 'read'");
    expect(summary.error).not.toContain('S3RVER');
  });

  test('under quarantine: each unreadable object a quarantined partition, the good one read', async () => {
    const out = 'out-mixed-quarantine';
    const summary = await run(workflow('mixed-quarantine', mixed, 'quarantine'), out, [`s3://${bucket}/mixed`]);
    expect(summary.status, summary.error).toBe('ok');
    const read = summary.stages.find((s) => s.id === 'read')!;
    expect([read.rowsOut, read.quarantined]).toEqual([10_000, 2]);
    const reasons = (await duckdb(`SELECT _error FROM '${join(root, out, '_quarantine', 'read.parquet')}' ORDER BY _error`)).map((r) => String(r[0]));
    expect(reasons).toEqual([
      expect.stringContaining(`s3://${bucket}/mixed/2-cut.parquet: truncated`),
      expect.stringContaining(`s3://${bucket}/mixed/3-junk.parquet: not a Parquet file`),
    ]);
  });

  test('a missing bucket, a missing key and wrong credentials', async () => {
    const discover = (path: string) => parquetSource.discover(parquetSource.params.parse({ path }), { baseDir: root });
    await expect(discover('s3://no-such-bucket/in/*.parquet')).rejects.toThrow(/cannot list 's3:\/\/no-such-bucket\/in\/\*\.parquet'.*NoSuchBucket/);
    await expect(discover(`s3://${bucket}/in/nothing.parquet`)).rejects.toThrow(`no object matches 's3://${bucket}/in/nothing.parquet'`);
    const secret = 'wrong-secret-0123456789';
    const { AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY } = process.env;
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'NOBODY', AWS_SECRET_ACCESS_KEY: secret });
    try {
      const denied = await discover(`s3://${bucket}/in/*.parquet`).catch((e: Error) => e);
      expect(String(denied)).toMatch(/HTTP 403 \(InvalidAccessKeyId.*check AWS_ACCESS_KEY_ID/);
      expect(String(denied)).not.toContain(secret);
    } finally {
      Object.assign(process.env, { AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY });
    }
  });
});
