// 2b. Parquet → derive → Parquet: 10 M rows (4 float64 + 1 int32, snappy, written by DuckDB), one
// derived column, into Parquet (snappy) — by quiver (2 worker threads) and by DuckDB (2 threads)
// running the same query. Each contender runs in a fresh process of its own.
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { workflow } from '../../src/workflow/builder.ts';
import { duckdb } from '../helpers.ts';
import { benchDir, cleanup, mb, report, timedRun, warmExecutor } from './common.ts';

const [, , role, dir] = process.argv;

async function runQuiver(): Promise<number> {
  const executor = await warmExecutor(2);
  const wf = workflow('parquet-pass-through', { baseDir: dir })
    .stage('in', 'source.parquet', { path: 'input.parquet' })
    .stage('derive', 'table.derive', { columns: { s: 'a + b * c' } }, { from: 'in' })
    .stage('out', 'sink.parquet', { path: 'quiver.parquet', compression: 'snappy' }, { from: 'derive' });
  const { seconds } = await timedRun(wf, executor, join(dir, 'q'));
  await executor.close();
  return seconds;
}

async function runDuckdb(): Promise<number> {
  const started = performance.now();
  await duckdb(`SET threads = 2; COPY (SELECT a, b, c, d, i, a + b * c AS s FROM '${join(dir, 'input.parquet')}') TO '${join(dir, 'duck.parquet')}' (FORMAT PARQUET, COMPRESSION SNAPPY)`);
  return (performance.now() - started) / 1000;
}

if (role) {
  const seconds = await ({ quiver: runQuiver, duckdb: runDuckdb }[role]!)();
  console.log(JSON.stringify({ seconds }));
} else {
  const rows = Number(process.env.ROWS ?? 10_000_000);
  const work = benchDir();
  // Row groups of 122,880 rows, DuckDB's default: a reader can split the file into many partitions.
  await duckdb(`COPY (SELECT random() AS a, random() AS b, random() AS c, random() AS d, CAST(k AS INTEGER) AS i FROM range(${rows}) t(k))
    TO '${join(work, 'input.parquet')}' (FORMAT PARQUET, COMPRESSION SNAPPY, ROW_GROUP_SIZE 122880)`);
  const inputMb = mb(statSync(join(work, 'input.parquet')).size);
  const self = fileURLToPath(import.meta.url);
  const time = (who: string) => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', self, who, work], { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`${who} failed:\n${run.stderr}`);
    return (JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { seconds: number }).seconds;
  };
  const quiver = time('quiver');
  const duck = time('duckdb');
  // The same rows and values from both (sums loosely: DuckDB adds in parallel, in any order).
  const [ours] = await duckdb(`SELECT count(*), sum(s), sum(i) FROM '${join(work, 'q', 'quiver.parquet')}'`);
  const [theirs] = await duckdb(`SELECT count(*), sum(s), sum(i) FROM '${join(work, 'duck.parquet')}'`);
  const agree = String(ours[0]) === String(theirs[0]) && String(ours[2]) === String(theirs[2])
    && Math.abs(Number(ours[1]) - Number(theirs[1])) <= 1e-9 * Math.abs(Number(theirs[1]));
  cleanup(work);
  if (!agree) throw new Error(`quiver and DuckDB disagree: ${ours} vs ${theirs}`);
  report('parquet-pass-through', { rows, inputMb, quiver, duckdb: duck, quiverOverDuckdb: quiver / duck },
    `Parquet pass-through ${rows / 1e6} M rows (${inputMb.toFixed(0)} MB snappy): quiver ${quiver.toFixed(2)} s, DuckDB (2 threads) ${duck.toFixed(2)} s ` +
    `(quiver/DuckDB ${(quiver / duck).toFixed(2)}×, goal ≤ 1.5)`);
}
