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

describe('reference workflows: finance', () => {
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

  test('forecast: targets are the next day\'s close, the split is chronological, and the metrics equal DuckDB on the predictions', async () => {
    await run('forecast');
    const predictions = join(out, 'forecast', 'predictions.parquet');
    // close_next is the following trading day's close in the source file (no off-by-one).
    const [aligned] = await duckdb(`WITH src AS (SELECT date::TIMESTAMP AS d, close, lead(close) OVER (ORDER BY date) AS next FROM read_csv('${data('pandasta_SPY_D.csv')}'))
      SELECT count(*), max(abs(p.close_next - src.next)), max(abs(p.close_today - src.close)) FROM '${predictions}' p JOIN src ON p.date = src.d`);
    expect(Number(aligned[0])).toBe(5241 - 21); // the first return, then 20 returns per window, and no target for the last day
    expect(Number(aligned[1])).toBeLessThan(1e-9);
    expect(Number(aligned[2])).toBe(0);
    const [order] = await duckdb(`SELECT max(date) FILTER (split = 'train') < min(date) FILTER (split = 'validation'),
      max(date) FILTER (split = 'validation') < min(date) FILTER (split = 'test') FROM '${predictions}'`);
    expect(order).toEqual([true, true]);
    const metrics = await duckdb(`SELECT predicted, mae, rmse, directional_accuracy FROM read_csv('${join(out, 'forecast', 'metrics.csv')}') WHERE predicted LIKE '%_close'`);
    const expected = await duckdb(`SELECT m, avg(abs(p - close_next)), sqrt(avg((p - close_next) ^ 2)), avg(CASE WHEN sign(p - close_today) = sign(close_next - close_today) THEN 1 ELSE 0 END)
      FROM (SELECT 'lstm_close' AS m, lstm_close AS p, * FROM '${predictions}' UNION ALL SELECT 'linear_close', linear_close, * FROM '${predictions}'
            UNION ALL SELECT 'persistence_close', persistence_close, * FROM '${predictions}') WHERE split = 'test' GROUP BY m`);
    expect(metrics).toHaveLength(3);
    for (const [model, mae, rmse, direction] of metrics) {
      const row = expected.find((e) => e[0] === model)!;
      close(Number(mae), Number(row[1]));
      close(Number(rmse), Number(row[2]));
      close(Number(direction), Number(row[3]));
    }
    // The artifact's card says how it was trained.
    const card = JSON.parse(readFileSync(join(out, 'forecast', 'spy-lstm', 'quiver-model.json'), 'utf8'));
    expect(card.task).toBe('regression');
    expect(card.input.shape).toEqual([20, 1]);
  });

  test('index-from-stocks: the seed\'s MLP, one step earlier, beside persistence and linear regression; metrics equal DuckDB', async () => {
    await run('index-from-stocks');
    const predictions = join(out, 'index-from-stocks', 'predictions.parquet');
    // Tomorrow's index close, from the vega file, joined on the stocks' trading days.
    const [aligned] = await duckdb(`WITH days AS (SELECT strptime(s."Date", '%m/%d/%Y') AS d, i.close FROM read_csv('${data('ffn_test_data.csv')}', all_varchar=true) s
        JOIN read_csv('${data('vega_sp500-2000.csv')}') i ON strptime(s."Date", '%m/%d/%Y') = i.date::TIMESTAMP),
      nxt AS (SELECT d, close, lead(close) OVER (ORDER BY d) AS next FROM days)
      SELECT count(*), max(abs(p.index_next - nxt.next)) FROM '${predictions}' p JOIN nxt ON p.Date = nxt.d`);
    expect(Number(aligned[0])).toBeGreaterThan(2400);
    expect(Number(aligned[1])).toBeLessThan(1e-9);
    const metrics = await duckdb(`SELECT predicted, mae FROM read_csv('${join(out, 'index-from-stocks', 'metrics.csv')}') WHERE predicted LIKE '%_index'`);
    const expected = await duckdb(`SELECT m, avg(abs(p - index_next)) FROM (SELECT 'mlp_index' AS m, mlp_index AS p, * FROM '${predictions}'
      UNION ALL SELECT 'linear_index', linear_index, * FROM '${predictions}' UNION ALL SELECT 'persistence_index', persistence_index, * FROM '${predictions}')
      WHERE split = 'test' GROUP BY m`);
    expect(metrics).toHaveLength(3);
    for (const [model, mae] of metrics) close(Number(mae), Number(expected.find((e) => e[0] === model)![1]));
    const card = JSON.parse(readFileSync(join(out, 'index-from-stocks', 'index-mlp', 'quiver-model.json'), 'utf8'));
    expect(card.input.shape).toEqual([1, 3]);
  });
  test('patterns: the climatological forecast and the regime table equal DuckDB on the same days', async () => {
    await run('patterns');
    // Days with 20 returns behind them and a next close; the last 30 % are the test days.
    const days = `WITH d AS (SELECT close, lead(close) OVER (ORDER BY date) AS next, row_number() OVER (ORDER BY date) - 1 AS i FROM read_csv('${data('pandasta_SPY_D.csv')}')),
      kept AS (SELECT *, row_number() OVER (ORDER BY i) - 1 AS k, count(*) OVER () AS n FROM d WHERE i >= 20 AND next IS NOT NULL)`;
    const [[testDays, upShare, trainDays]] = await duckdb(`${days} SELECT count(*) FILTER (k >= round(0.7 * n)), avg((next > close)::INT) FILTER (k >= round(0.7 * n)), count(*) FILTER (k < round(0.7 * n)) FROM kept`);
    const metrics = await duckdb(`SELECT forecast, rows, tp + fp + tn + fn, accuracy, tss, hss FROM read_csv('${join(out, 'patterns', 'up-or-down.csv')}')`);
    expect(metrics.map((m) => m[0])).toEqual(['naive Bayes', 'always up']);
    for (const m of metrics) expect([Number(m[1]), Number(m[2])]).toEqual([Number(testDays), Number(testDays)]);
    close(Number(metrics[1][3]), Number(upShare));
    expect([Number(metrics[1][4]), Number(metrics[1][5])]).toEqual([0, 0]); // no skill, by definition
    const regimes = await duckdb(`SELECT cluster, days FROM read_csv('${join(out, 'patterns', 'regimes.csv')}') ORDER BY cluster`);
    expect(regimes.map((r) => Number(r[0]))).toEqual([0, 1, 2, 3]);
    expect(regimes.reduce((n, r) => n + Number(r[1]), 0)).toBe(Number(trainDays));
  });
});
