// source.csv on real files from ../shared/data/finance, checked against DuckDB's read_csv of the
// same file: row counts, every value of every column, column sums, first and last timestamps.
import { describe, expect, test } from 'vitest';
import type { Table } from 'apache-arrow';
import { describeSchema } from '../../../src/arrow/types.ts';
import { duckdb, sharedData } from '../../helpers.ts';
import { readCsv } from './read-helpers.ts';

const finance = sharedData('finance');

/** A column as comparable JS values: numbers (int64 as number when safe), timestamps as epoch ms, strings, null. */
function ours(table: Table, column: string): unknown[] {
  const vector = table.getChild(column)!;
  return Array.from({ length: table.numRows }, (_, i) => normalise(vector.get(i)));
}

function normalise(v: unknown): unknown {
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v;
  return v ?? null;
}

function sum(values: unknown[]): number {
  return values.reduce<number>((acc, v) => acc + (v === null ? 0 : Number(v)), 0);
}

/**
 * Compares every column of `table` with DuckDB's (`select`: one expression per column, in order),
 * then the sums of the numeric columns and the row count with DuckDB's own SUM and COUNT.
 */
async function compare(table: Table, select: string[], from: string) {
  const names = table.schema.fields.map((f) => f.name);
  expect(select.length).toBe(names.length);
  const aliased = select.map((e, c) => `${e} AS c${c}`).join(', ');
  const rows = await duckdb(`SELECT ${aliased} FROM ${from}`);
  expect(table.numRows).toBe(rows.length);
  for (const [c, name] of names.entries()) {
    expect(ours(table, name), `column ${name}`).toEqual(rows.map((row) => normalise(row[c])));
  }
  const numeric = names.flatMap((_name, c) => (/^(Int|Float)/.test(String(table.schema.fields[c].type)) ? [c] : []));
  const [totals] = await duckdb(`SELECT count(*), ${numeric.map((c) => `sum(c${c})::DOUBLE`).join(', ')} FROM (SELECT ${aliased} FROM ${from})`);
  expect(Number(totals[0])).toBe(table.numRows);
  numeric.forEach((c, k) => {
    const total = sum(ours(table, names[c]));
    expect(Math.abs(total - Number(totals[k + 1])) / Math.max(1, Math.abs(total)), `sum of ${names[c]}`).toBeLessThan(1e-12);
  });
}

const iso = (ms: unknown) => new Date(Number(ms)).toISOString();

describe.skipIf(!finance)('source.csv on real finance files (checked against DuckDB)', () => {
  const file = (name: string) => `${finance}/${name}`;

  test('vega_sp500-2000.csv: ISO dates, floats, int64 volume', async () => {
    const { table, schema } = await readCsv({ path: 'vega_sp500-2000.csv' }, finance!);
    expect(describeSchema(schema)).toBe('date: timestamp[ms, UTC], open: float64, high: float64, low: float64, close: float64, adjclose: float64, volume: int64');
    await compare(table,
      ['epoch_ms(date::TIMESTAMP)', 'open', 'high', 'low', 'close', 'adjclose', 'volume'],
      `read_csv('${file('vega_sp500-2000.csv')}', types={'date': 'DATE', 'volume': 'BIGINT'})`);
    const dates = ours(table, 'date');
    const [[first, last]] = await duckdb(`SELECT epoch_ms(min(date::TIMESTAMP)), epoch_ms(max(date::TIMESTAMP)) FROM read_csv('${file('vega_sp500-2000.csv')}')`);
    expect(iso(dates[0])).toBe(iso(first));
    expect(iso(dates.at(-1))).toBe(iso(last));
    expect(iso(dates[0])).toBe('2000-01-03T00:00:00.000Z');
  });

  test('ffn_test_data.csv: M/D/YYYY dates with timestampFormat, CRLF lines', async () => {
    const { table, schema } = await readCsv({ path: 'ffn_test_data.csv', timestampFormat: '%m/%d/%Y' }, finance!);
    expect(describeSchema(schema)).toBe('Date: timestamp[ms, UTC], AAPL: float64, MSFT: float64, C: float64');
    await compare(table,
      [`epoch_ms(strptime("Date", '%m/%d/%Y'))`, 'AAPL::DOUBLE', 'MSFT::DOUBLE', 'C::DOUBLE'],
      `read_csv('${file('ffn_test_data.csv')}', all_varchar=true)`);
    expect(iso(ours(table, 'Date')[0])).toBe('2004-03-10T00:00:00.000Z');
  });

  test("pyalgotrade_nt-spy-minute-2011-03.csv: no header, ';', %Y%m%d %H%M%S", async () => {
    const { table, schema } = await readCsv({
      path: 'pyalgotrade_nt-spy-minute-2011-03.csv', header: false, delimiter: ';', timestampFormat: '%Y%m%d %H%M%S',
      columns: ['time', 'open', 'high', 'low', 'close', 'volume'],
    }, finance!);
    expect(describeSchema(schema)).toBe('time: timestamp[ms, UTC], open: float64, high: float64, low: float64, close: float64, volume: int64');
    await compare(table,
      [`epoch_ms(strptime(column0, '%Y%m%d %H%M%S'))`, 'column1::DOUBLE', 'column2::DOUBLE', 'column3::DOUBLE', 'column4::DOUBLE', 'column5::BIGINT'],
      `read_csv('${file('pyalgotrade_nt-spy-minute-2011-03.csv')}', header=false, delim=';', all_varchar=true)`);
    const times = ours(table, 'time');
    expect(iso(times[0])).toBe('2011-03-01T09:01:00.000Z');
    expect(iso(times.at(-1))).toBe('2011-03-31T23:59:00.000Z');
  });

  test('pyalgotrade_nt-spy-minute-2011-03.csv: default names column_1..column_6', async () => {
    const { schema } = await readCsv({ path: 'pyalgotrade_nt-spy-minute-2011-03.csv', header: false, delimiter: ';' }, finance!);
    // Without the format the first column is text: '20110301 090100' is no ISO timestamp.
    expect(describeSchema(schema)).toBe('column_1: utf8, column_2: float64, column_3: float64, column_4: float64, column_5: float64, column_6: int64');
  });

  test('pyalgotrade_30min-bitstampUSD-2.csv: an always-empty column is utf8 and all null', async () => {
    const { table, schema } = await readCsv({ path: 'pyalgotrade_30min-bitstampUSD-2.csv' }, finance!);
    expect(describeSchema(schema)).toBe('Date Time: timestamp[ms, UTC], Open: float64, High: float64, Low: float64, Close: float64, Volume: float64, Adj Close: utf8');
    expect(table.getChild('Adj Close')!.nullCount).toBe(table.numRows);
    await compare(table,
      ['epoch_ms("Date Time"::TIMESTAMP)', '"Open"::DOUBLE', '"High"::DOUBLE', '"Low"::DOUBLE', '"Close"::DOUBLE', '"Volume"::DOUBLE', '"Adj Close"'],
      `read_csv('${file('pyalgotrade_30min-bitstampUSD-2.csv')}', all_varchar=true)`);
    expect(iso(ours(table, 'Date Time')[0])).toBe('2014-06-23T22:00:00.000Z');
    expect(iso(ours(table, 'Date Time').at(-1))).toBe('2014-08-03T23:00:00.000Z');
  });

  test('pandasta_SPY_D.csv: no trailing newline, an unnamed first column', async () => {
    const { table, schema } = await readCsv({ path: 'pandasta_SPY_D.csv' }, finance!);
    expect(describeSchema(schema)).toBe('column_1: int64, date: timestamp[ms, UTC], open: float64, high: float64, low: float64, close: float64, volume: float64');
    await compare(table,
      ['column0', 'epoch_ms(date::TIMESTAMP)', 'open', 'high', 'low', 'close', 'volume'],
      `read_csv('${file('pandasta_SPY_D.csv')}')`);
    const last = table.get(table.numRows - 1)!.toJSON();
    expect(last.close).toBe(350.58);
    expect(last.volume).toBe(48588940);
  });

  test('vega_stocks.csv: %b %d %Y dates, a text column', async () => {
    const { table, schema } = await readCsv({ path: 'vega_stocks.csv', timestampFormat: '%b %d %Y' }, finance!);
    expect(describeSchema(schema)).toBe('symbol: utf8, date: timestamp[ms, UTC], price: float64');
    await compare(table,
      ['symbol', `epoch_ms(strptime(date, '%b %d %Y'))`, 'price::DOUBLE'],
      `read_csv('${file('vega_stocks.csv')}', all_varchar=true)`);
  });

  test('a glob over files with different headers fails naming the file that differs', async () => {
    const message = await readCsv({ path: 'vega_s*.csv' }, finance!).then(() => 'no error', (e: Error) => e.message);
    expect(message).toBe(`${file('vega_stocks.csv')}:1: the header differs from the first file's: `
      + 'expected date,open,high,low,close,adjclose,volume; found symbol,date,price');
  });
});
