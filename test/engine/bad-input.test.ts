// Bad input is set aside at the finest honest unit, and every row is accounted for: a CSV's bad
// lines one by one (file:line and why), a Parquet row group or an Arrow record batch with its row
// count, a file discovery cannot read as one row naming it; the rest of the glob runs. Without
// onError the run fails naming the file and still writes its record. A file written to during the
// run fails its partition before anything reaches the cache or the record under its old hash.
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { RecordBatchFileWriter, Table, tableFromArrays } from 'apache-arrow';
import { afterAll, describe, expect, test } from 'vitest';
import { readLayout } from '../../connectors/arrow-ipc/messages.ts';
import { LocalExecutor } from '../../src/engine/executors/local.ts';
import { resolveWorkflow, runWorkflow } from '../../src/engine/run-workflow.ts';
import { builtinCatalog } from '../../src/stages/index.ts';
import { workflow } from '../../src/workflow/builder.ts';
import { duckdb, repoRoot, scratchDir } from '../helpers.ts';

const executor = new LocalExecutor({ workers: 2 });
afterAll(() => executor.close());
const root = scratchDir('quiver-bad-input-');
type OnError = 'fail' | 'skip' | 'quarantine';

/** A folder of its own for each case. */
function folder(name: string): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

const quarantined = (out: string, stage: string) => duckdb(`SELECT _error FROM '${join(out, '_quarantine', `${stage}.parquet`)}' ORDER BY _error`);

describe('a CSV with scattered bad rows', () => {
  // 20,000 rows; 10 bad ones after the inference sample, of every kind a file can hold.
  const rows = 20_000;
  const bad = new Map<number, string>([
    [2_500, '2500,abc,x'], // a float column that reads 'abc'
    [4_000, '4000,1.5'], // a field missing
    [6_100, '6100,1.5,x,extra'], // a field too many
    [8_000, '8000,1.5,"open quote'], // a quote never closed
    [9_999, '9999,,x,,'],
    [12_000, '12000,1e999999x,x'],
    [14_000, 'not-an-int,2.5,x'],
    [16_000, '16000,2.5'],
    [18_000, '18000,NaNa,x'],
    [19_999, '19999,"1.5",x,y'],
  ]);
  const lineOf = (row: number) => row + 2; // after the header, 1-based
  function write(dir: string) {
    const lines = ['id,x,tag'];
    for (let i = 0; i < rows; i++) lines.push(bad.get(i) ?? `${i},${i / 4},t${i % 7}`);
    writeFileSync(join(dir, 'scattered.csv'), lines.join('\n') + '\n');
    return readFileSync(join(dir, 'scattered.csv')).byteLength;
  }
  const csvWorkflow = (dir: string, onError: OnError, chunkBytes?: number) => workflow('scattered', { baseDir: dir })
    .stage('read', 'source.csv', { path: 'scattered.csv', schema: { x: 'float64' }, ...(chunkBytes ? { chunkBytes } : {}) }, { onError })
    .stage('out', 'sink.parquet', { path: 'good.parquet' }, { from: 'read' });

  for (const chunkBytes of [undefined, 64 * 1024]) {
    test(`quarantine (${chunkBytes ? 'in 64 KiB chunks' : 'whole file'}): 19,990 rows out + 10 quarantined, each with its own file:line`, async () => {
      const dir = folder(`csv-${chunkBytes ?? 'whole'}`);
      const size = write(dir);
      if (chunkBytes) expect(size).toBeGreaterThan(4 * chunkBytes);
      const out = join(dir, 'out');
      const summary = await runWorkflow(csvWorkflow(dir, 'quarantine', chunkBytes), { catalog: builtinCatalog, out, executor });
      expect(summary.error).toBeUndefined();
      const read = summary.stages.find((s) => s.id === 'read')!;
      expect(read.rowsOut).toBe(rows - bad.size);
      expect(read.quarantined).toBe(bad.size);
      expect(read.rowsOut + read.quarantined).toBe(rows);
      expect(summary.unaccounted).toEqual([]);
      const [[count, sum]] = await duckdb(`SELECT count(*), sum(id) FROM '${join(out, 'good.parquet')}'`);
      const goodIds = Array.from({ length: rows }, (_, i) => i).filter((i) => !bad.has(i));
      expect(Number(count)).toBe(goodIds.length);
      expect(Number(sum)).toBe(goodIds.reduce((a, b) => a + b, 0));
      const reasons = (await quarantined(out, 'read')).map((r) => String(r[0]));
      expect(reasons).toHaveLength(bad.size);
      const lines = reasons.map((r) => Number(/scattered\.csv:(\d+):/.exec(r)?.[1])).sort((a, b) => a - b);
      expect(lines).toEqual([...bad.keys()].map(lineOf));
      expect(reasons.find((r) => r.includes(`:${lineOf(2_500)}:`))).toMatch(/column 'x': cannot read 'abc' as float64/);
      expect(reasons.find((r) => r.includes(`:${lineOf(4_000)}:`))).toMatch(/expected 3 fields, found 2/);
      expect(reasons.find((r) => r.includes(`:${lineOf(8_000)}:`))).toMatch(/unterminated quoted field|expected 3 fields/);
    });
  }

  test('skip: the same rows left out and counted, no quarantine file', async () => {
    const dir = folder('csv-skip');
    write(dir);
    const out = join(dir, 'out');
    const summary = await runWorkflow(csvWorkflow(dir, 'skip'), { catalog: builtinCatalog, out, executor });
    const read = summary.stages.find((s) => s.id === 'read')!;
    expect([read.rowsOut, read.quarantined]).toEqual([rows - bad.size, bad.size]);
    expect(existsSync(join(out, '_quarantine', 'read.parquet'))).toBe(false);
  });

  test('fail (the default): a bad line in the sample is a validation problem; one after it stops the run, named, with its record', async () => {
    const dir = folder('csv-fail');
    write(dir);
    await expect(resolveWorkflow(csvWorkflow(dir, 'fail'), { catalog: builtinCatalog }))
      .rejects.toThrow(new RegExp(`scattered\\.csv:${lineOf(4_000)}: expected 3 fields, found 2`));
    const lines = ['id,x,tag', ...Array.from({ length: rows }, (_, i) => (i === 15_000 ? '15000,1.5' : `${i},${i / 4},t`))];
    writeFileSync(join(dir, 'scattered.csv'), lines.join('\n') + '\n');
    const summary = await runWorkflow(csvWorkflow(dir, 'fail'), { catalog: builtinCatalog, out: join(dir, 'out'), executor });
    expect(summary.status).toBe('failed');
    expect(summary.error).toMatch(new RegExp(`stage 'read[^']*': .*scattered\\.csv:${lineOf(15_000)}: expected 3 fields, found 2`));
    expect(JSON.parse(readFileSync(summary.manifest, 'utf8')).status).toBe('failed');
  });

  test('a bad row inside the inference sample: validation passes under quarantine, and the row alone is set aside', async () => {
    const dir = folder('csv-sample');
    writeFileSync(join(dir, 'scattered.csv'), 'id,x,tag\n1,0.5,a\n2,0.25\n3,oops,c\n4,1.5,d\n');
    const wf = workflow('sample', { baseDir: dir })
      .stage('read', 'source.csv', { path: 'scattered.csv', schema: { x: 'float64' } }, { onError: 'quarantine' })
      .stage('out', 'sink.parquet', { path: 'good.parquet' }, { from: 'read' });
    await expect(resolveWorkflow(wf, { catalog: builtinCatalog })).resolves.toBeDefined();
    const out = join(dir, 'out');
    const summary = await runWorkflow(wf, { catalog: builtinCatalog, out, executor });
    expect(summary.error).toBeUndefined();
    expect((await duckdb(`SELECT id FROM '${join(out, 'good.parquet')}' ORDER BY id`)).map((r) => Number(r[0]))).toEqual([1, 4]);
    const reasons = (await quarantined(out, 'read')).map((r) => String(r[0]));
    expect(reasons).toEqual([
      expect.stringMatching(/scattered\.csv:3: expected 3 fields, found 2/),
      expect.stringMatching(/scattered\.csv:4: column 'x': cannot read 'oops' as float64/),
    ].sort() as never);
  });
});

describe('a lost row group or record batch counts its rows', () => {
  /** Reads `file` under quarantine into good.parquet: 2,000 rows out and 1,000 set aside, all accounted for. */
  async function expectTwoThousandKept(dir: string, use: string, file: string): Promise<string> {
    const wf = workflow('lost', { baseDir: dir })
      .stage('read', use, { path: file }, { onError: 'quarantine' })
      .stage('out', 'sink.parquet', { path: 'good.parquet' }, { from: 'read' });
    const out = join(dir, 'out');
    const summary = await runWorkflow(wf, { catalog: builtinCatalog, out, executor });
    expect(summary.error).toBeUndefined();
    const read = summary.stages.find((s) => s.id === 'read')!;
    expect([read.rowsOut, read.quarantined]).toEqual([2000, 1000]);
    expect(summary.unaccounted).toEqual([]);
    return out;
  }

  test('Parquet: row groups of 2,000 and 1,000 rows, the second damaged: 2,000 out, 1,000 quarantined as one row saying so', async () => {
    const dir = folder('parquet-group');
    const ids = Array.from({ length: 3000 }, (_, i) => i);
    writeFileSync(join(dir, 'rows.csv'), 'id,x\n' + ids.map((i) => `${i},${i * 0.5}`).join('\n') + '\n');
    const make = workflow('make', { baseDir: dir })
      .stage('read', 'source.csv', { path: 'rows.csv' })
      .stage('out', 'sink.parquet', { path: 'groups.parquet', rowGroupRows: 2000, compression: 'none' }, { from: 'read' });
    expect((await runWorkflow(make, { catalog: builtinCatalog, out: join(dir, 'made'), executor })).error).toBeUndefined();
    const file = join(dir, 'groups.parquet');
    copyFileSync(join(dir, 'made', 'groups.parquet'), file);
    // The second row group's first page header, overwritten: its pages cannot be decoded.
    const { parquetMetadataAsync } = await import('hyparquet');
    const bytes = readFileSync(file);
    const meta = await parquetMetadataAsync(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    expect(meta.row_groups.map((g) => Number(g.num_rows))).toEqual([2000, 1000]);
    for (const column of meta.row_groups[1].columns) bytes.fill(0xff, Number(column.meta_data!.data_page_offset), Number(column.meta_data!.data_page_offset) + 12);
    writeFileSync(file, bytes);

    const out = await expectTwoThousandKept(dir, 'source.parquet', 'groups.parquet');
    const [[count, max]] = await duckdb(`SELECT count(*), max(id) FROM '${join(out, 'good.parquet')}'`);
    expect([Number(count), Number(max)]).toEqual([2000, 1999]);
    const reasons = await quarantined(out, 'read');
    expect(reasons).toHaveLength(1);
    expect(String(reasons[0][0])).toMatch(/groups\.parquet: row group 1\b.*\[1000 rows set aside\]/);
  });

  test('Arrow: three record batches of 1,000 rows, the second damaged: 2,000 out, 1,000 quarantined', async () => {
    const dir = folder('arrow-batch');
    const whole = tableFromArrays({
      id: Float64Array.from({ length: 3000 }, (_, i) => i),
      name: Array.from({ length: 3000 }, (_, i) => `n${i}`),
    }).batches[0];
    const file = join(dir, 'batches.arrow');
    writeFileSync(file, RecordBatchFileWriter.writeAll(new Table([0, 1000, 2000].map((from) => whole.slice(from, from + 1000)))).toUint8Array(true));
    const handle = await open(file, 'r');
    const layout = await readLayout(handle, (await handle.stat()).size, 'batches.arrow');
    await handle.close();
    expect(layout.batches).toHaveLength(3);
    // The second batch's body (after its 8-byte prefix and metadata) filled with 0xff: its string offsets are impossible.
    const bytes = readFileSync(file);
    const [offset, length] = layout.batches![1];
    const metadata = bytes.readInt32LE(offset + 4);
    bytes.fill(0xff, offset + 8 + metadata, offset + length);
    writeFileSync(file, bytes);

    const out = await expectTwoThousandKept(dir, 'source.arrow', 'batches.arrow');
    const ids = (await duckdb(`SELECT min(id), max(id), count(*) FROM '${join(out, 'good.parquet')}' WHERE id >= 1000 AND id < 2000`))[0];
    expect(Number(ids[2])).toBe(0);
    const reasons = await quarantined(out, 'read');
    expect(String(reasons[0][0])).toMatch(/batches\.arrow.*record batch 2 of 3.*\[1000 rows set aside\]/);
  });
});

describe('one file of a glob that discovery cannot read', () => {
  const astro = join(repoRoot, 'data', 'astronomy', 'astroquery_ukidss_wfcam_K_cutout.fits');
  const radar = join(repoRoot, 'data', 'radar', 'sim-demo');
  // Per format: two good files and one damaged, the stage reading them, and the rows of one good file.
  const formats = {
    csv: {
      use: 'source.csv', glob: '*.csv', rowsPerFile: 2,
      make(dir: string) {
        writeFileSync(join(dir, 'a.csv'), ''); // empty: no header to take columns from
        writeFileSync(join(dir, 'b.csv'), 'id,x\n1,0.5\n2,1.5\n');
        writeFileSync(join(dir, 'c.csv'), 'id,x\n3,2.5\n4,3.5\n');
        return 'a.csv';
      },
    },
    parquet: {
      use: 'source.parquet', glob: '*.parquet', rowsPerFile: 2,
      async make(dir: string) {
        const made = join(dir, 'made');
        writeFileSync(join(dir, 'rows.csv'), 'id,x\n1,0.5\n2,1.5\n');
        await runWorkflow(workflow('make', { baseDir: dir }).stage('r', 'source.csv', { path: 'rows.csv' })
          .stage('w', 'sink.parquet', { path: 'p.parquet' }, { from: 'r' }), { catalog: builtinCatalog, out: made, executor });
        const good = readFileSync(join(made, 'p.parquet'));
        writeFileSync(join(dir, 'a.parquet'), good);
        writeFileSync(join(dir, 'b.parquet'), good.subarray(0, good.byteLength - 20)); // footer cut
        writeFileSync(join(dir, 'c.parquet'), good);
        return 'b.parquet';
      },
    },
    arrow: {
      use: 'source.arrow', glob: '*.arrow', rowsPerFile: 3,
      make(dir: string) {
        const good = RecordBatchFileWriter.writeAll(tableFromArrays({ id: Float64Array.of(1, 2, 3) })).toUint8Array(true);
        writeFileSync(join(dir, 'a.arrow'), good);
        writeFileSync(join(dir, 'b.arrow'), good);
        writeFileSync(join(dir, 'c.arrow'), good.subarray(0, 40));
        return 'c.arrow';
      },
    },
    fits: {
      use: 'source.fits', glob: '*.fits', rowsPerFile: 1,
      make(dir: string) {
        copyFileSync(astro, join(dir, 'a.fits'));
        writeFileSync(join(dir, 'b.fits'), 'SIMPLE  = T'.padEnd(2880 * 2, '#')); // no END, no valid cards
        copyFileSync(astro, join(dir, 'c.fits'));
        return 'b.fits';
      },
    },
    sigmf: {
      use: 'source.sigmf', glob: '*.sigmf-meta', rowsPerFile: 8,
      make(dir: string) {
        for (const name of ['a', 'c']) {
          copyFileSync(`${radar}.sigmf-meta`, join(dir, `${name}.sigmf-meta`));
          copyFileSync(`${radar}.sigmf-data`, join(dir, `${name}.sigmf-data`));
        }
        writeFileSync(join(dir, 'b.sigmf-meta'), '{"global": {"core:datatype": "cf32_le",'); // cut short
        copyFileSync(`${radar}.sigmf-data`, join(dir, 'b.sigmf-data'));
        return 'b.sigmf-meta';
      },
    },
  };

  for (const [name, format] of Object.entries(formats)) {
    test(`${name}: quarantined as one row naming it, the rest runs; under fail the run names it and keeps its record`, async () => {
      const dir = folder(`discover-${name}`);
      const damaged = await format.make(dir);
      const wf = (onError: OnError) => workflow(`glob-${name}`, { baseDir: dir })
        .stage('read', format.use, { path: format.glob }, { onError })
        .stage('out', 'sink.arrow', { path: 'all.arrow' }, { from: 'read' });

      const out = join(dir, 'out-quarantine');
      const summary = await runWorkflow(wf('quarantine'), { catalog: builtinCatalog, out, executor });
      expect(summary.error).toBeUndefined();
      const read = summary.stages.find((s) => s.id === 'read')!;
      expect([read.rowsOut, read.quarantined]).toEqual([2 * format.rowsPerFile, 1]);
      const reasons = await quarantined(out, 'read');
      expect(reasons).toHaveLength(1);
      expect(String(reasons[0][0])).toContain(damaged);

      const failed = await runWorkflow(wf('fail'), { catalog: builtinCatalog, out: join(dir, 'out-fail'), executor });
      expect(failed.status).toBe('failed');
      expect(failed.error).toMatch(new RegExp(`stage 'read[^']*'.*${damaged.replace('.', '\\.')}`));
      expect(JSON.parse(readFileSync(failed.manifest, 'utf8')).status).toBe('failed');
    });
  }
});

describe('an input written to during the run', () => {
  test('fails its partition, never enters the cache, and is not recorded under its old hash', async () => {
    const dir = folder('changing');
    const fixtures = join(repoRoot, 'test', 'fixtures');
    writeFileSync(join(dir, 'a.csv'), 'id\n1\n2\n3\n');
    const wf = workflow('changing', { baseDir: dir })
      .stage('read', 'source.csv', { path: 'a.csv' })
      .stage('touch', `${join(fixtures, 'stages.ts')}#appendOnce`, { file: join(dir, 'a.csv'), text: '4\n' }, { from: 'read' })
      .stage('out', 'sink.parquet', { path: 'a.parquet' }, { from: 'touch' });
    const out = join(dir, 'out');
    const first = await runWorkflow(wf, { catalog: builtinCatalog, out, executor, allowPaths: [fixtures] });
    expect(first.status).toBe('failed');
    expect(first.error).toMatch(/a\.csv.*changed size \(\d+ → \d+ bytes\) during the run/);
    const manifest = JSON.parse(readFileSync(first.manifest, 'utf8'));
    expect(manifest.inputs).toEqual([expect.objectContaining({ path: 'a.csv', changed: true })]);
    expect(manifest.inputs[0].sha256).toBeUndefined();

    // Put back as it was: the next run reads it afresh, nothing stale comes from the cache.
    writeFileSync(join(dir, 'a.csv'), 'id\n1\n2\n3\n');
    const again = await runWorkflow(wf, { catalog: builtinCatalog, out, executor, allowPaths: [fixtures] });
    expect(again.error).toBeUndefined();
    expect(again.stages.find((s) => s.id === 'read')!.cached).toBe(0);
    expect((await duckdb(`SELECT count(*) FROM '${join(out, 'a.parquet')}'`))[0].map(Number)).toEqual([3]);
  });
});
