// `finance.align`: several series on one calendar, `from: [a, b, ...]`, each with the `time` column.
// The calendar is the times every input has (`inner`), any input has (`outer`), or the first
// input has (`first`). A series with no row at a calendar time gets null there, or with
// `fill: forward` its latest earlier value (never a later one: no look-ahead). Value columns keep
// their names; a name two inputs share gets the input's prefix (`prefixes`, default in1, in2, ...).
import { Field, Schema, vectorFromArray, type RecordBatch } from 'apache-arrow';
import { z } from 'zod';
import { concatBatches } from '../../arrow/concat.ts';
import { makeBatch } from '../../arrow/batch.ts';
import { isScalar } from '../../arrow/values.ts';
import { requireColumnOf } from '../../arrow/columns.ts';
import { SchemaError } from '../../workflow/errors.ts';
import { defineReduce } from '../../workflow/stage.ts';

const params = z.object({
  time: z.string().min(1).describe('the time column every input has'),
  calendar: z.enum(['inner', 'outer', 'first']).default('inner'),
  fill: z.enum(['none', 'forward']).default('none'),
  prefixes: z.array(z.string().min(1)).optional().describe('one per input, for value columns whose names clash'),
}).strict();

type Params = z.output<typeof params>;

/** Each input's value columns and the names they get in the output. */
function outputColumns(p: Params, inputs: Schema[]) {
  const counts = new Map<string, number>();
  for (const s of inputs) for (const f of s.fields) if (f.name !== p.time) counts.set(f.name, (counts.get(f.name) ?? 0) + 1);
  return inputs.map((s, i) => s.fields.filter((f) => f.name !== p.time).map((f) => ({
    from: f.name,
    field: new Field((counts.get(f.name) ?? 0) > 1 ? `${p.prefixes?.[i] ?? `in${i + 1}`}_${f.name}` : f.name, f.type, true, f.metadata),
  })));
}

export const align = defineReduce({
  name: 'finance.align',
  kind: 'reduce',
  version: '1',
  description: 'Puts several series on one calendar (inner, outer, or the first input\'s), optionally filling gaps forward from the past.',
  params,
  inputs: { min: 2, max: 16 },
  outputSchema({ params: p, inputs }) {
    const time = inputs.map((s, i) => requireColumnOf(s, p.time, isScalar, 'a timestamp, date or number', i));
    if (p.prefixes && p.prefixes.length !== inputs.length) throw new SchemaError(`prefixes names ${p.prefixes.length} inputs, but there are ${inputs.length}`);
    const fields = [new Field(p.time, time[0].type, false), ...outputColumns(p, inputs).flat().map((c) => c.field)];
    const twice = fields.find((f, i) => fields.findIndex((g) => g.name === f.name) !== i);
    if (twice) throw new SchemaError(`two output columns would be named '${twice.name}': give other prefixes`);
    return new Schema(fields);
  },
  scope: () => 'all',
  create(p, { inputSchemas, outputSchema }) {
    const batches: RecordBatch[][] = inputSchemas.map(() => []);
    return {
      push(batch, at) {
        batches[at.input].push(batch);
      },
      end() {
        const tables = inputSchemas.map((s, i) => concatBatches(s, batches[i]));
        // Each input's rows by time, in time order.
        const series = tables.map((t, i) => {
          const time = t.getChild(p.time)!;
          const rows = Array.from({ length: t.numRows }, (_, r) => ({ t: Number(time.get(r)), r }));
          if (rows.some((x) => Number.isNaN(x.t))) throw new Error(`input ${i + 1} has a row without a time`);
          rows.sort((a, b) => a.t - b.t || a.r - b.r);
          return rows;
        });
        const times = series.map((rows) => new Set(rows.map((x) => x.t)));
        let calendar = p.calendar === 'first' ? [...times[0]] : [...new Set(series.flatMap((rows) => rows.map((x) => x.t)))];
        if (p.calendar === 'inner') calendar = calendar.filter((t) => times.every((s) => s.has(t)));
        calendar.sort((a, b) => a - b);
        // For each input, the row at each calendar time (-1: none) and the row to use (filled forward
        // from the latest earlier row if asked), walking forward in time.
        const exact = series.map(() => new Int32Array(calendar.length).fill(-1));
        const picks = series.map((rows, i) => {
          let next = 0;
          let latest = -1;
          return calendar.map((t, k) => {
            while (next < rows.length && rows[next].t <= t) {
              latest = rows[next].r;
              if (rows[next].t === t) exact[i][k] = rows[next].r;
              next++;
            }
            return exact[i][k] >= 0 ? exact[i][k] : p.fill === 'forward' ? latest : -1;
          });
        });
        const columns = outputColumns(p, inputSchemas);
        const timeField = outputSchema.fields[0];
        // Each calendar time as one of the inputs that has it holds it.
        const timeValues = calendar.map((_, k) => {
          const i = exact.findIndex((rows) => rows[k] >= 0);
          return tables[i].getChild(p.time)!.get(exact[i][k]);
        });
        const data = [vectorFromArray(timeValues, timeField.type).data[0]];
        columns.forEach((list, i) => {
          for (const { from, field } of list) {
            const vector = tables[i].getChild(from)!;
            data.push(vectorFromArray(picks[i].map((r) => (r >= 0 ? vector.get(r) : null)), field.type).data[0]);
          }
        });
        return makeBatch(outputSchema, data, calendar.length);
      },
    };
  },
});
