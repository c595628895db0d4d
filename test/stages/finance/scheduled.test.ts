// The stages a scheduled forecast is built from: the refit cadence (periods in UTC, labels by
// hand), live windows, and the out-of-sample record kept across runs (filled by hand-worked rows).
import { Schema, tableFromArrays, type RecordBatch } from 'apache-arrow';
import { describe, expect, test } from 'vitest';
import { forecastRecord } from '../../../src/stages/finance/forecast-record.ts';
import { periodStart, refitSplit } from '../../../src/stages/finance/refit-split.ts';
import { slidingWindow } from '../../../src/stages/finance/window.ts';
import type { ReduceStage } from '../../../src/workflow/stage.ts';

const table = (columns: Record<string, Float64Array>) => tableFromArrays(columns).batches[0] as unknown as RecordBatch;

/** Runs a reduce over whole inputs (one batch or none each, one partition), in input order; returns its output batch. */
async function run(stage: ReduceStage, raw: unknown, inputs: { schema: Schema; batch?: RecordBatch }[]): Promise<RecordBatch> {
  const params = stage.params.parse(raw);
  const inputSchemas = inputs.map((i) => i.schema);
  const outputSchema = stage.outputSchema({ params, inputs: inputSchemas, baseDir: '.' });
  const reducer = stage.create(params, { inputSchemas, outputSchema, baseDir: '.' });
  const at = (input: number) => ({ input, partition: { index: 0, key: '0' } });
  for (const [input, { batch }] of inputs.entries()) if (batch) await reducer.push(batch, at(input));
  return (await (reducer.endPartition?.(at(0)) ?? reducer.end!())) as RecordBatch;
}
const whole = (batch: RecordBatch) => ({ schema: batch.schema, batch });
const col = (batch: RecordBatch, name: string) => [...batch.getChild(name)!].map((v) => (v === null ? null : Number(v)));
const day = (iso: string) => Date.parse(`${iso}T00:00:00Z`);

describe('scheduled forecasting stages', () => {
  test('periodStart: the UTC start of the day, Monday-week, month, quarter and year holding a time', () => {
    const t = Date.parse('2020-08-13T15:30:00Z'); // a Thursday
    expect(new Date(periodStart(t, 'day')).toISOString()).toBe('2020-08-13T00:00:00.000Z');
    expect(new Date(periodStart(t, 'week')).toISOString()).toBe('2020-08-10T00:00:00.000Z');
    expect(new Date(periodStart(Date.parse('2020-08-16T23:59:00Z'), 'week')).toISOString()).toBe('2020-08-10T00:00:00.000Z'); // Sunday
    expect(new Date(periodStart(t, 'month')).toISOString()).toBe('2020-08-01T00:00:00.000Z');
    expect(new Date(periodStart(t, 'quarter')).toISOString()).toBe('2020-07-01T00:00:00.000Z');
    expect(new Date(periodStart(t, 'year')).toISOString()).toBe('2020-01-01T00:00:00.000Z');
  });

  test('refit-split: before the latest month train then validation, inside it test, no target live', async () => {
    const dates = ['2020-06-29', '2020-06-30', '2020-07-01', '2020-07-02', '2020-07-06', '2020-07-07', '2020-07-08', '2020-07-09', '2020-07-10', '2020-07-13',
      '2020-07-31', '2020-08-03', '2020-08-04'];
    const target = Float64Array.from(dates, (_, i) => (i === dates.length - 1 ? NaN : i));
    const out = await run(refitSplit, { time: 'date', every: 'month', validation: 0.3 }, [whole(table({ date: Float64Array.from(dates, day), target }))]);
    // 11 fitting rows before August: round(0.3 * 11) = 3 validation, the latest.
    expect([...out.getChild('split')!]).toEqual([...Array(8).fill('train'), ...Array(3).fill('validation'), 'test', 'live']);
    // One more day of data in the same month leaves the fitting rows as they were.
    const more = [...dates, '2020-08-05'];
    const next = await run(refitSplit, { time: 'date', every: 'month', validation: 0.3 },
      [whole(table({ date: Float64Array.from(more, day), target: Float64Array.from(more, (_, i) => (i === more.length - 1 ? NaN : i)) }))]);
    expect([...next.getChild('split')!].slice(0, 11)).toEqual([...out.getChild('split')!].slice(0, 11));
    expect([...next.getChild('split')!].slice(11)).toEqual(['test', 'test', 'live']);
    await expect(run(refitSplit, { time: 'date', every: 'month' }, [whole(table({ date: Float64Array.of(2, 1), target: Float64Array.of(1, 1) }))]))
      .rejects.toThrow("row 1: 'date' goes back in time");
  });

  test('window live: the last rows, whose target is still to come, are made with a null target', async () => {
    const close = Float64Array.from({ length: 10 }, (_, i) => 100 + i);
    const time = Float64Array.from({ length: 10 }, (_, i) => i);
    const params = { time: 'time', features: ['close'], target: 'close', length: 3, horizon: 2 };
    const past = await run(slidingWindow, params, [whole(table({ time, close }))]);
    const live = await run(slidingWindow, { ...params, live: true }, [whole(table({ time, close }))]);
    expect(col(past, 'time')).toEqual([2, 3, 4, 5, 6, 7]);
    expect(col(live, 'time')).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
    expect(col(live, 'target')).toEqual([104, 105, 106, 107, 108, 109, null, null]);
    expect(live.schema.fields.find((f) => f.name === 'target')!.nullable).toBe(true);
  });

  test('forecast-record: appends new forecasts, fills outcomes as they arrive, never rewrites a forecast or an outcome', async () => {
    const history = (n: number, revised = 0) => table({ time: Float64Array.from({ length: n }, (_, i) => i + 1), close: Float64Array.from({ length: n }, (_, i) => 10 * (i + 1) + revised) });
    const forecasts = (times: number[], guess: number) => table({ time: Float64Array.from(times), close: Float64Array.from(times, (t) => 10 * t), guess: Float64Array.from(times, () => guess) });
    const none = { schema: new Schema([]) }; // what source.parquet gives with missing: empty before the first run
    const params = { time: 'time', value: 'close' };

    // Run 1: the series ends at time 3; the forecast made then waits for time 4.
    const first = await run(forecastRecord, params, [whole(forecasts([3], 31)), whole(history(3)), none]);
    expect(col(first, 'time')).toEqual([3]);
    expect(col(first, 'outcome')).toEqual([null]);
    // Run 2: time 5 has come. The forecast at 3 is scored by time 4; a second forecast for 3 (a rerun
    // after retraining) is ignored; the one at 5 waits.
    const second = await run(forecastRecord, params, [whole(forecasts([3, 5], 52)), whole(history(5)), whole(first)]);
    expect(col(second, 'time')).toEqual([3, 5]);
    expect(col(second, 'guess')).toEqual([31, 52]);
    expect(col(second, 'outcome_time')).toEqual([4, null]);
    expect(col(second, 'outcome')).toEqual([40, null]);
    // Run 3: the series was revised (every close +1). The outcome already measured stays; time 5's is the revised one.
    const third = await run(forecastRecord, params, [whole(forecasts([6], 63)), whole(history(6, 1)), whole(second)]);
    expect(col(third, 'time')).toEqual([3, 5, 6]);
    expect(col(third, 'outcome')).toEqual([40, 61, null]);
    // Two rows ahead.
    const ahead = await run(forecastRecord, { ...params, horizon: 2 }, [whole(forecasts([2, 3], 0)), whole(history(4)), none]);
    expect(col(ahead, 'outcome')).toEqual([40, null]);
    // A record of another shape is refused, not merged.
    await expect(run(forecastRecord, params, [whole(forecasts([7], 0)), whole(history(7)), whole(history(2))]))
      .rejects.toThrow(/the record holds columns \(time float64, close float64\), not this stage's \(time float64, close float64, guess float64, outcome_time float64, outcome float64\)/);
  });
});
