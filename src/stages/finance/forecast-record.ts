// `finance.forecast-record`: the out-of-sample record a scheduled forecast keeps across runs.
// `from: [forecasts, history, record]`: the forecasts this run made (one row each, by the time they
// were made), the series as it stands now, and the record the previous run wrote (read with
// `source.parquet` and `missing: empty`, so the first run starts from nothing). Every record row
// still waiting for its outcome gets it once the series has `horizon` rows after the row's time:
// `outcome_time` and `outcome` (the value then). New forecasts are appended unless the record
// already holds one made at that time: the first forecast made for a time is the one scored,
// so running twice on the same data, or after a retrain, cannot rewrite the record. Outcomes once
// filled are kept even if the series is later revised: the record says what was measured then.
import { Field, Float64, Schema, vectorFromArray, type RecordBatch } from 'apache-arrow';
import { z } from 'zod';
import { makeBatch } from '../../arrow/batch.ts';
import { concatBatches, concatData } from '../../arrow/concat.ts';
import { takeData } from '../../arrow/take.ts';
import { sameType, typeName } from '../../arrow/types.ts';
import { isScalar } from '../../arrow/values.ts';
import { requireColumnOf } from '../../arrow/columns.ts';
import { SchemaError } from '../../workflow/errors.ts';
import { defineReduce } from '../../workflow/stage.ts';
import { numbers, requireNumbers, withColumns } from '../../arrow/added-columns.ts';

const params = z.object({
  time: z.string().min(1).describe('the time column of the forecasts (when made) and of the series'),
  value: z.string().min(1).describe('the series column forecast (e.g. close)'),
  horizon: z.number().int().min(1).default(1).describe('rows of the series after the forecast time at which the outcome is known'),
}).strict();

export const forecastRecord = defineReduce({
  name: 'finance.forecast-record',
  kind: 'reduce',
  version: '1',
  description: "The rolling out-of-sample record across runs: appends this run's forecasts, fills outcomes that have since arrived; adds outcome_time, outcome.",
  params,
  inputs: { min: 3, max: 3 },
  outputSchema({ params: p, inputs: [forecasts, history, record] }) {
    const time = requireColumnOf(forecasts, p.time, isScalar, 'a timestamp, date or number');
    requireColumnOf(history, p.time, isScalar, 'a timestamp, date or number');
    requireNumbers(history, [p.value]);
    const output = withColumns(forecasts, [new Field('outcome_time', time.type, true), new Field('outcome', new Float64(), true)]);
    // No columns: no record yet (the first run). Otherwise it must be one this stage wrote.
    if (record.fields.length > 0) {
      const describe = (s: Schema) => s.fields.map((f) => `${f.name} ${typeName(f.type)}`).join(', ');
      const same = record.fields.length === output.fields.length && output.fields.every((f, i) => record.fields[i].name === f.name && sameType(record.fields[i].type, f.type));
      if (!same) throw new SchemaError(`the record holds columns (${describe(record)}), not this stage's (${describe(output)}): the forecasts changed shape; move the old record aside to start a new one`);
    }
    return new Schema(output.fields.map((f) => (f.nullable ? f : new Field(f.name, f.type, true, f.metadata))), output.metadata);
  },
  scope: () => 'all',
  create(p, { inputSchemas: [forecastSchema, historySchema, recordSchema], outputSchema }) {
    const held: RecordBatch[][] = [[], [], []];
    return {
      push(batch, at) {
        held[at.input].push(batch);
      },
      end() {
        const fresh = concatBatches(forecastSchema, held[0]);
        const history = concatBatches(historySchema, held[1]);
        const record = recordSchema.fields.length > 0 ? concatBatches(recordSchema, held[2]) : undefined;
        const seriesTimes = numbers(history, p.time);
        const seriesValues = numbers(history, p.value);
        const rowAt = new Map<number, number>();
        seriesTimes.forEach((t, i) => rowAt.set(t, i));

        // Old rows first, then the new forecasts for times the record does not hold yet.
        const recorded = record ? numbers(record, p.time) : new Float64Array(0);
        const freshTimes = numbers(fresh, p.time);
        const known = new Set(recorded);
        const freshKept = [...freshTimes.keys()].filter((i) => !known.has(freshTimes[i]) && !Number.isNaN(freshTimes[i]));
        const times = [...recorded, ...freshKept.map((i) => freshTimes[i])];
        const order = Int32Array.from(times.keys()).sort((a, b) => times[a] - times[b] || a - b);

        const width = forecastSchema.fields.length;
        const columns = forecastSchema.fields.map((_, c) => {
          const parts = [...(record ? [record.data.children[c]] : []), takeData(fresh.data.children[c], Int32Array.from(freshKept))];
          return takeData(concatData(parts), order);
        });
        const oldTime = record ? numbers(record, 'outcome_time') : new Float64Array(0);
        const oldValue = record ? numbers(record, 'outcome') : new Float64Array(0);
        const outcomeTime: (number | null)[] = [];
        const outcome: (number | null)[] = [];
        for (const i of order) {
          if (i < recorded.length && !Number.isNaN(oldValue[i])) {
            outcomeTime.push(oldTime[i]);
            outcome.push(oldValue[i]);
            continue;
          }
          const row = rowAt.get(times[i]);
          const at = row === undefined ? -1 : row + p.horizon;
          const arrived = at >= 0 && at < seriesTimes.length && !Number.isNaN(seriesValues[at]);
          outcomeTime.push(arrived ? seriesTimes[at] : null);
          outcome.push(arrived ? seriesValues[at] : null);
        }
        return makeBatch(outputSchema, [
          ...columns,
          vectorFromArray(outcomeTime, outputSchema.fields[width].type).data[0],
          vectorFromArray(outcome, new Float64()).data[0],
        ], order.length);
      },
    };
  },
});
