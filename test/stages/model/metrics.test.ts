// The evaluation stages against values worked out by hand on small inputs, and ROC AUC against the
// pair-counting definition on random scores with ties.
import { tableFromArrays, type RecordBatch, type Schema } from 'apache-arrow';
import { describe, expect, test } from 'vitest';
import { Random } from '../../../src/numeric/random.ts';
import { classificationMetrics, rocAuc } from '../../../src/stages/model/classification-metrics.ts';
import { regressionMetricsStage } from '../../../src/stages/model/regression-metrics.ts';
import type { ReduceStage } from '../../../src/workflow/stage.ts';

async function reduce(stage: ReduceStage, raw: unknown, columns: Record<string, number[] | Float64Array>) {
  const [batch] = tableFromArrays(columns as Record<string, Float64Array>).batches as unknown as RecordBatch[];
  const params = stage.params.parse(raw);
  const outputSchema: Schema = stage.outputSchema({ params, inputs: [batch.schema], baseDir: '.' });
  const reducer = stage.create(params, { inputSchemas: [batch.schema], outputSchema, baseDir: '.' });
  reducer.push(batch, { input: 0, partition: { index: 0, key: '0' } });
  const out = (await reducer.end!()) as RecordBatch;
  return Object.fromEntries(out.schema.fields.map((f) => [f.name, Number(out.getChild(f.name)!.get(0) ?? NaN)]));
}

describe('model.classification-metrics', () => {
  test('confusion matrix, precision, recall, F1, TSS, HSS and AUC of a small case, by hand', async () => {
    const m = await reduce(classificationMetrics, { label: 'y', score: 's' }, {
      y: Float64Array.of(1, 1, 1, 0, 0, 0, 0, 1), s: Float64Array.of(0.9, 0.8, 0.3, 0.6, 0.2, 0.1, 0.55, 0.7),
    });
    expect([m.rows, m.tp, m.fp, m.tn, m.fn]).toEqual([8, 3, 2, 2, 1]);
    expect(m.precision).toBeCloseTo(3 / 5, 12);
    expect(m.recall).toBeCloseTo(3 / 4, 12);
    expect(m.f1).toBeCloseTo((2 * 0.6 * 0.75) / 1.35, 12);
    expect(m.accuracy).toBeCloseTo(5 / 8, 12);
    expect(m.false_alarm_rate).toBeCloseTo(2 / 4, 12);
    expect(m.tss).toBeCloseTo(0.75 - 0.5, 12);
    expect(m.hss).toBeCloseTo((2 * (3 * 2 - 1 * 2)) / ((3 + 1) * (1 + 2) + (3 + 2) * (2 + 2)), 12);
    expect(m.roc_auc).toBeCloseTo(14 / 16, 12); // positive-over-negative pairs
  });

  test('ROC AUC equals counting pairs (ties half) on random scores', () => {
    const random = new Random(4);
    const n = 300;
    const scores = Float64Array.from({ length: n }, () => Math.round(random.uniform() * 20) / 20); // many ties
    const labels = Uint8Array.from({ length: n }, (_, i) => (random.uniform() < 0.3 + 0.4 * scores[i] ? 1 : 0));
    let wins = 0;
    let pairs = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
      if (labels[i] !== 1 || labels[j] !== 0) continue;
      pairs++;
      wins += scores[i] > scores[j] ? 1 : scores[i] === scores[j] ? 0.5 : 0;
    }
    expect(rocAuc(scores, labels)).toBeCloseTo(wins / pairs, 12);
  });

  test('ratios with a zero denominator are null, and a label that is not 0/1 is an error', async () => {
    const m = await reduce(classificationMetrics, { label: 'y', score: 's' }, { y: Float64Array.of(0, 0), s: Float64Array.of(0.1, 0.9) });
    expect(Number.isNaN(m.recall)).toBe(true); // null: no positives
    expect(Number.isNaN(m.roc_auc)).toBe(true);
    expect(m.false_alarm_rate).toBe(0.5);
    await expect(reduce(classificationMetrics, { label: 'y', score: 's' }, { y: Float64Array.of(2), s: Float64Array.of(0.5) })).rejects.toThrow('row 0: label 2 is not 0 or 1');
  });
});

describe('model.regression-metrics', () => {
  test('MSE, RMSE, MAE, MAPE and directional accuracy of a small case, by hand', async () => {
    const m = await reduce(regressionMetricsStage, { actual: 'y', predicted: 'p' }, { y: Float64Array.of(10, 11, 9, 12), p: Float64Array.of(10.5, 10, 10, 12.5) });
    expect(m.rows).toBe(4);
    expect(m.mse).toBeCloseTo((0.25 + 1 + 1 + 0.25) / 4, 12);
    expect(m.rmse).toBeCloseTo(Math.sqrt(0.625), 12);
    expect(m.mae).toBeCloseTo(0.75, 12);
    expect(m.mape).toBeCloseTo((100 * (0.5 / 10 + 1 / 11 + 1 / 9 + 0.5 / 12)) / 4, 12);
    // From the previous actual: 10→11 predicted flat (miss), 11→9 predicted down (hit), 9→12 predicted up (hit).
    expect([m.directional_accuracy, m.direction_rows]).toEqual([2 / 3, 3]);
  });

  test('with a reference column, every row has a direction; zero actuals are left out of MAPE', async () => {
    const m = await reduce(regressionMetricsStage, { actual: 'y', predicted: 'p', reference: 'r' }, {
      y: Float64Array.of(0, 2, 3), p: Float64Array.of(1, 1, 4), r: Float64Array.of(1, 1, 1),
    });
    // From 1: y went down, up, up; the predictions stayed flat, stayed flat, went up: one of three.
    expect([m.directional_accuracy, m.direction_rows]).toEqual([1 / 3, 3]);
    expect([m.mape, m.mape_rows]).toEqual([(100 * (1 / 2 + 1 / 3)) / 2, 2]);
  });
});
