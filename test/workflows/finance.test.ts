// The reference workflows on the bundled data, checked against DuckDB computing the same
// results from the same CSV files (a second implementation, not earlier output).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { afterAll, describe, expect, test } from 'vitest';
import { LocalExecutor } from '../../src/engine/executors/local.ts';
import { runWorkflow } from '../../src/index.ts';
import { duckdb, repoRoot, scratchDir } from '../helpers.ts';

const out = scratchDir();
const executor = new LocalExecutor({ workers: 2 });
afterAll(() => executor.close());
const data = (name: string) => join(repoRoot, 'data', 'finance', name);
const run = async (name: string) => {
  const summary = await runWorkflow(join(repoRoot, 'workflows', 'finance', `${name}.yaml`), { out: join(out, name), executor, allowPaths: [join(repoRoot, 'data')] });
  expect(summary.status, summary.error).toBe('ok');
  expect(summary.unaccounted).toEqual([]);
  return summary;
};
const close = (a: number, b: number) => expect(Math.abs(a - b)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(b)));

describe('reference workflows: finance', { timeout: 60_000 }, () => {
  test('spy-daily: per-year summary and daily Parquet equal DuckDB on the same CSV', async () => {
    await run('spy-daily');
    const yearly = await duckdb(`SELECT year, days, mean_close, high, low, volume, volatility FROM read_csv('${join(out, 'spy-daily', 'spy-yearly.csv')}') ORDER BY year`);
    const expected = await duckdb(`SELECT year(date) AS y, count(*), avg(close), max(high), min(low), sum(volume), stddev_samp(ln(close / open))
      FROM read_csv('${data('pandasta_SPY_D.csv')}') WHERE volume >= 1 GROUP BY y ORDER BY y`);
    expect(yearly.length).toBe(22);
    expect(yearly.map((r) => Number(r[0]))).toEqual(expected.map((r) => Number(r[0])));
    yearly.forEach((row, i) => row.slice(1).forEach((v, j) => close(Number(v), Number(expected[i][j + 1]))));

    const [daily] = await duckdb(`SELECT count(*), sum(range), sum(log_return), min(date)::VARCHAR FROM '${join(out, 'spy-daily', 'spy-daily.parquet')}'`);
    const [fromCsv] = await duckdb(`SELECT count(*), sum(high - low), sum(ln(close / open)), min(date::TIMESTAMP)::VARCHAR FROM read_csv('${data('pandasta_SPY_D.csv')}') WHERE volume >= 1`);
    expect(Number(daily[0])).toBe(Number(fromCsv[0]));
    close(Number(daily[1]), Number(fromCsv[1]));
    close(Number(daily[2]), Number(fromCsv[2]));
    expect(String(daily[3])).toMatch(/^1999-11-01 00:00:00/);
  });

  test('minute-bars: hourly OHLCV equals DuckDB grouping the same minutes', async () => {
    await run('minute-bars');
    const ours = await duckdb(`SELECT day, hour, open, high, low, close, volume, bars FROM '${join(out, 'minute-bars', 'spy-hourly.parquet')}' ORDER BY start`);
    const theirs = await duckdb(`WITH m AS (SELECT strptime(column0, '%Y%m%d %H%M%S') AS t, column1 AS o, column2 AS h, column3 AS l, column4 AS c, column5 AS v
        FROM read_csv('${data('pyalgotrade_nt-spy-minute-2011-03.csv')}', delim=';', header=false))
      SELECT day(t) d, hour(t) hr, arg_min(o, t), max(h), min(l), arg_max(c, t), sum(v), count(*) FROM m GROUP BY d, hr ORDER BY min(t)`);
    expect(ours.length).toBe(theirs.length);
    expect(ours.length).toBe(386);
    ours.forEach((row, i) => row.forEach((v, j) => close(Number(v), Number(theirs[i][j]))));
  });

  test('stocks-vs-spy: the join keeps each stock day that has an index close, in order', async () => {
    await run('stocks-vs-spy');
    const table = tableFromIPC(readFileSync(join(out, 'stocks-vs-spy', 'stocks-vs-spy.arrow')));
    const [expected] = await duckdb(`SELECT count(*), sum(s."AAPL"::DOUBLE / i.close), min(strptime(s."Date", '%m/%d/%Y'))::VARCHAR
      FROM read_csv('${data('ffn_test_data.csv')}', all_varchar=true) s
      JOIN read_csv('${data('vega_sp500-2000.csv')}') i ON strptime(s."Date", '%m/%d/%Y') = i.date::TIMESTAMP`);
    expect(table.numRows).toBe(Number(expected[0]));
    const ratio = table.getChild('aapl_per_index')!.toArray() as Float64Array;
    close(ratio.reduce((a, b) => a + b, 0), Number(expected[1]));
    expect(new Date(table.getChild('Date')!.get(0) as number).toISOString()).toBe('2004-03-10T00:00:00.000Z');
  });
});
