// The time-series stages: values against hand computation and brute force, the chronological
// split, scaling fitted on training rows only, windows, and no look-ahead: shuffling the future
// leaves every past-only feature of the earlier rows exactly as it was.
import { tableFromArrays, type RecordBatch } from 'apache-arrow';
import { describe, expect, test } from 'vitest';
import { tensorValues } from '../../../src/arrow/tensor.ts';
import { Random } from '../../../src/numeric/random.ts';
import { align } from '../../../src/stages/finance/align.ts';
import { returns } from '../../../src/stages/finance/returns.ts';
import { rolling } from '../../../src/stages/finance/rolling.ts';
import { scale } from '../../../src/stages/finance/scale.ts';
import { split } from '../../../src/stages/finance/split.ts';
import { slidingWindow } from '../../../src/stages/finance/window.ts';
import type { ReduceStage } from '../../../src/workflow/stage.ts';

const table = (columns: Record<string, Float64Array>) => tableFromArrays(columns).batches[0] as unknown as RecordBatch;

/** Runs a reduce over partitions (lists of batches) the way the engine does; returns what it emitted. */
async function run(stage: ReduceStage, raw: unknown, partitions: RecordBatch[][]): Promise<RecordBatch[]> {
  const params = stage.params.parse(raw);
  const inputSchema = partitions[0][0].schema;
  const outputSchema = stage.outputSchema({ params, inputs: [inputSchema], baseDir: '.' });
  const reducer = stage.create(params, { inputSchemas: [inputSchema], outputSchema, baseDir: '.' });
  const out: RecordBatch[] = [];
  const keep = async (e: unknown) => {
    const value = await e;
    if (value) out.push(...(Array.isArray(value) ? value : [value as RecordBatch]));
  };
  for (const [index, batches] of partitions.entries()) {
    const at = { input: 0, partition: { index, key: String(index) } };
    for (const b of batches) await keep(reducer.push(b, at));
    await keep(reducer.endPartition?.(at));
  }
  await keep(reducer.end?.());
  return out;
}
const col = (batches: RecordBatch[], name: string) => batches.flatMap((b) => [...b.getChild(name)!].map((v) => (v === null ? null : Number(v))));

function series(n: number, seed: number) {
  const random = new Random(seed);
  let price = 100;
  const close = Float64Array.from({ length: n }, () => (price *= Math.exp(0.01 * random.normal())));
  return { time: Float64Array.from({ length: n }, (_, i) => i), close };
}

describe('finance stages', () => {
  test('returns: log and simple, carried across batches, reset per partition, none after a missing price', async () => {
    const a = table({ close: Float64Array.of(100, 110) });
    const b = table({ close: Float64Array.of(99, NaN, 105) });
    const log = await run(returns, { columns: ['close'] }, [[a, b], [b]]);
    const values = col(log, 'close_log_return');
    expect(values[0]).toBeNull();
    expect(values[1]).toBeCloseTo(Math.log(1.1), 14);
    expect(values[2]).toBeCloseTo(Math.log(0.9), 14);
    expect(values.slice(3, 5)).toEqual([null, null]);
    expect(values[5]).toBeNull(); // a new partition starts afresh
    const simple = col(await run(returns, { columns: ['close'], kind: 'simple' }, [[a, b]]), 'close_return');
    expect(simple[2]).toBeCloseTo(-0.1, 14);
  });

  test('rolling statistics equal the brute-force ones over the last N rows', async () => {
    const { close } = series(60, 1);
    const out = await run(rolling, { columns: ['close'], window: 5, stats: ['mean', 'std', 'min', 'max'] }, [[table({ close: close.slice(0, 23) }), table({ close: close.slice(23) })]]);
    const mean = col(out, 'close_mean_5');
    const std = col(out, 'close_std_5');
    expect(mean.slice(0, 4)).toEqual([null, null, null, null]);
    for (let t = 4; t < 60; t++) {
      const w = [...close.slice(t - 4, t + 1)];
      const m = w.reduce((a, b) => a + b, 0) / 5;
      expect(mean[t]).toBeCloseTo(m, 10);
      expect(std[t]).toBeCloseTo(Math.sqrt(w.reduce((a, v) => a + (v - m) ** 2, 0) / 4), 10);
      expect(col(out, 'close_max_5')[t]).toBe(Math.max(...w));
    }
  });

  test('split: shares in time order with no overlap; rows out of order are refused', async () => {
    const { time, close } = series(100, 2);
    const out = await run(split, { time: 'time', train: 0.7, validation: 0.15 }, [[table({ time, close })]]);
    const labels = out.flatMap((b) => [...b.getChild('split')!]);
    expect(labels.filter((l) => l === 'train')).toHaveLength(70);
    expect(labels.lastIndexOf('train')).toBeLessThan(labels.indexOf('validation'));
    expect(labels.lastIndexOf('validation')).toBeLessThan(labels.indexOf('test'));
    await expect(run(split, { time: 'time', train: 0.7 }, [[table({ time: Float64Array.of(1, 3, 2), close: Float64Array.of(1, 2, 3) })]]))
      .rejects.toThrow("row 2: 'time' goes back in time");
  });

  test('scale: z-score constants from the training rows only', async () => {
    const { time, close } = series(100, 3);
    const [out] = await run(scale, { columns: ['close'] }, await run(split, { time: 'time', train: 0.6 }, [[table({ time, close })]]).then((b) => [b]));
    const train = [...close.slice(0, 60)];
    const mean = train.reduce((a, b) => a + b, 0) / 60;
    const sd = Math.sqrt(train.reduce((a, v) => a + (v - mean) ** 2, 0) / 60);
    expect(Number(out.getChild('close_center')!.get(99))).toBeCloseTo(mean, 10);
    expect(Number(out.getChild('close_spread')!.get(0))).toBeCloseTo(sd, 10);
    expect(Number(out.getChild('close_scaled')!.get(80))).toBeCloseTo((close[80] - mean) / sd, 10);
  });

  test('windows: the last `length` rows of features, and the target `horizon` rows ahead', async () => {
    const { time, close } = series(20, 4);
    const volume = Float64Array.from({ length: 20 }, (_, i) => i * 10);
    const [out] = await run(slidingWindow, { time: 'time', features: ['close', 'volume'], target: 'close', length: 3, horizon: 2 }, [[table({ time, close, volume })]]);
    expect(out.numRows).toBe(20 - 2 - 2); // t from 2 to 17
    const values = tensorValues(out, 'window');
    // Row 0 is t = 2: rows 0..2, features (close, volume) interleaved.
    expect([...values.slice(0, 6)]).toEqual([...[0, 1, 2].flatMap((i) => [Math.fround(close[i]), volume[i]])]);
    expect(Number(out.getChild('target')!.get(0))).toBe(close[4]);
    expect(Number(out.getChild('last')!.get(0))).toBe(close[2]);
  });

  test('align: inner, outer and first calendars; forward fill takes the latest earlier value, never a later one', async () => {
    const a = table({ time: Float64Array.of(1, 2, 4, 5), price: Float64Array.of(10, 11, 13, 14) });
    const b = table({ time: Float64Array.of(5, 2, 3), price: Float64Array.of(205, 202, 203) }); // out of order
    const aligned = async (raw: Record<string, unknown>) => {
      const params = align.params.parse({ time: 'time', ...raw });
      const outputSchema = align.outputSchema({ params, inputs: [a.schema, b.schema], baseDir: '.' });
      const reducer = align.create(params, { inputSchemas: [a.schema, b.schema], outputSchema, baseDir: '.' });
      reducer.push(a, { input: 0, partition: { index: 0, key: 'a' } });
      reducer.push(b, { input: 1, partition: { index: 0, key: 'b' } });
      const out = (await reducer.end!()) as RecordBatch;
      return out.schema.fields.map((f) => [f.name, ...[...out.getChild(f.name)!].map((v) => (v === null ? null : Number(v)))]);
    };
    expect(await aligned({})).toEqual([['time', 2, 5], ['in1_price', 11, 14], ['in2_price', 202, 205]]);
    expect(await aligned({ calendar: 'outer', prefixes: ['spy', 'qqq'] })).toEqual([
      ['time', 1, 2, 3, 4, 5], ['spy_price', 10, 11, null, 13, 14], ['qqq_price', null, 202, 203, null, 205]]);
    // Forward fill: at time 1 b has nothing earlier, so it stays null (203 from time 3 is never pulled back).
    expect(await aligned({ calendar: 'first', fill: 'forward' })).toEqual([
      ['time', 1, 2, 4, 5], ['in1_price', 10, 11, 13, 14], ['in2_price', null, 202, 203, 205]]);
  });

  test('no look-ahead: shuffling rows after t leaves the features of rows up to t unchanged', async () => {
    const t = 120;
    const { time, close } = series(200, 5);
    const shuffled = close.slice();
    const random = new Random(6);
    for (let i = 199; i > t + 1; i--) {
      const j = t + 1 + Math.floor(random.uniform() * (i - t));
      [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
    }
    expect(shuffled.slice(t + 1)).not.toEqual(close.slice(t + 1));
    const features = async (prices: Float64Array) => {
      let batches = [table({ time, close: prices })];
      batches = await run(returns, { columns: ['close'] }, [batches]);
      batches = await run(rolling, { columns: ['close_log_return'], window: 10 }, [batches]);
      batches = await run(split, { time: 'time', train: 0.5, validation: 0.2 }, [batches]);
      batches = await run(scale, { columns: ['close', 'close_log_return_mean_10'] }, [batches]);
      const windows = await run(slidingWindow, { time: 'time', features: ['close_scaled', 'close_log_return_std_10'], target: 'close_log_return', length: 8 }, [batches]);
      return { batches, windows };
    };
    const before = await features(close);
    const after = await features(shuffled);
    for (const name of ['close_log_return', 'close_log_return_mean_10', 'close_log_return_std_10', 'close_scaled', 'close_log_return_mean_10_scaled']) {
      expect(col(after.batches, name).slice(0, t + 1), name).toEqual(col(before.batches, name).slice(0, t + 1));
    }
    // Windows ending at or before t hold the same inputs (their targets, one row later, may differ).
    const upTo = (w: RecordBatch[]) => {
      const ends = col(w, 'time');
      const values = tensorValues(w[0], 'window');
      return [...values.subarray(0, ends.filter((e) => e! <= t).length * 16)];
    };
    expect(upTo(after.windows)).toEqual(upTo(before.windows));
    expect(upTo(before.windows).length).toBeGreaterThan(0);
  });
});
