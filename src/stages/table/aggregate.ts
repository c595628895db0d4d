// `table.aggregate`: group-by with count, count_distinct, sum, mean, min, max, first, last, std
// and var. Rows stream through: only the distinct keys and per-group state (typed arrays indexed
// by group id) are held. Output: the key columns, then the aggregates, one row per group in order
// of first appearance; with no `by`, one row even for no input (counts 0, the rest null), as in SQL.
import { Field, RecordBatch, Schema, Struct, makeData, type Data, type DataType } from 'apache-arrow';
import { z } from 'zod';
import { aggregateFunctions, createAccumulator, resultType, type Accumulator, type AggregateFunction } from '../../arrow/accumulators.ts';
import { isHashable, KeyIndex } from '../../arrow/hash-keys.ts';
import { isNumeric } from '../../arrow/types.ts';
import { decodeDictionary, isScalar, physicalOf, valueType } from '../../arrow/values.ts';
import { requireColumn, requireColumnOf } from '../../arrow/columns.ts';
import { SchemaError } from '../../workflow/errors.ts';
import { defineReduce } from '../../workflow/stage.ts';

const OUTPUT_ROWS = 65_536;

const params = z.object({
  by: z.union([z.string().min(1), z.array(z.string().min(1))])
    .transform((by) => (Array.isArray(by) ? by : [by]))
    .default([])
    .describe('Key columns to group by (default none: one group for all rows)'),
  aggregates: z.record(z.string().min(1), z.string())
    .default({})
    .describe(`Output column -> "fn(column)" (or "count(*)"); fn is one of ${aggregateFunctions.join(', ')}`),
  scope: z.enum(['all', 'partition']).default('all')
    .describe('all (default): groups over all input; partition: each partition aggregated on its own'),
}).strict();

type Params = z.output<typeof params>;

interface Spec {
  name: string;
  fn: AggregateFunction;
  /** null for count(*). */
  column: string | null;
}

const specPattern = /^\s*([A-Za-z_]+)\s*\(\s*(.*?)\s*\)\s*$/;

function parseSpec(name: string, text: string): Spec {
  const m = specPattern.exec(text);
  const fn = m?.[1].toLowerCase() as AggregateFunction | undefined;
  if (!m || !fn || !aggregateFunctions.includes(fn)) {
    throw new SchemaError(`aggregate '${name}': '${text}' is not fn(column) with fn one of ${aggregateFunctions.join(', ')}`);
  }
  const column = m[2].replace(/^(["'`])(.*)\1$/, '$2');
  if (column === '*') {
    if (fn !== 'count') throw new SchemaError(`aggregate '${name}': only count takes *, not ${fn}`);
    return { name, fn, column: null };
  }
  if (column === '') throw new SchemaError(`aggregate '${name}': '${text}' names no column`);
  return { name, fn, column };
}

const specsOf = (p: Params) => Object.entries(p.aggregates).map(([name, text]) => parseSpec(name, text));

const isNumber = (t: DataType) => isNumeric(valueType(t)) && physicalOf(valueType(t)) !== undefined;

/** The input field of a spec, checked for what its function accepts. */
function inputField(schema: Schema, spec: Spec): Field | null {
  if (spec.column === null) return null;
  switch (spec.fn) {
    case 'count': return requireColumn(schema, spec.column);
    case 'count_distinct': return requireColumnOf(schema, spec.column, isHashable, 'a scalar type (number, string, bool, date or timestamp)');
    case 'sum':
    case 'mean':
    case 'std':
    case 'var': return requireColumnOf(schema, spec.column, isNumber, 'a number');
    default: return requireColumnOf(schema, spec.column, isScalar, 'a scalar type (number, string, bool, date or timestamp)');
  }
}

export const aggregate = defineReduce({
  name: 'table.aggregate',
  kind: 'reduce',
  version: '1',
  description: 'Groups rows by key columns and computes count, count_distinct, sum, mean, min, max, first, last, std and var per group.',
  params,
  outputSchema({ params: p, inputs: [input] }) {
    const specs = specsOf(p);
    if (p.by.length === 0 && specs.length === 0) throw new SchemaError("give 'by' columns, 'aggregates', or both");
    const keys = p.by.map((c) => {
      const f = requireColumnOf(input, c, isHashable, 'a scalar type (number, string, bool, date or timestamp)');
      return new Field(f.name, valueType(f.type), f.nullable, f.metadata);
    });
    const values = specs.map((s) => {
      const field = inputField(input, s);
      const counts = s.fn === 'count' || s.fn === 'count_distinct';
      return new Field(s.name, resultType(s.fn, field && valueType(field.type)), !counts);
    });
    const fields = [...keys, ...values];
    fields.forEach((f, i) => {
      if (fields.findIndex((g) => g.name === f.name) !== i) throw new SchemaError(`the output would have two columns named '${f.name}'`);
    });
    return new Schema(fields);
  },
  scope: (p) => p.scope,
  create(p, { inputSchemas: [input], outputSchema }) {
    const specs = specsOf(p);
    const keyColumns = p.by.map((c) => input.fields.findIndex((f) => f.name === c));
    const valueColumns = specs.map((s) => (s.column === null ? -1 : input.fields.findIndex((f) => f.name === s.column)));
    const keyTypes = keyColumns.map((c) => input.fields[c].type);
    const type = new Struct(outputSchema.fields);

    const fresh = () => ({
      keys: keyColumns.length ? new KeyIndex(keyTypes, { nullsEqual: true }) : null,
      accumulators: specs.map((s, i): Accumulator =>
        createAccumulator(s.fn, valueColumns[i] < 0 ? null : valueType(input.fields[valueColumns[i]].type), s.column ?? s.name)),
    });
    let state = fresh();
    let zeros = new Int32Array(0); // the group ids when there are no keys

    const emit = (): RecordBatch[] => {
      const { keys, accumulators } = state;
      state = fresh();
      const groups = keys ? keys.size : 1;
      if (groups === 0) return [];
      const children: Data[] = [...(keys ? keys.keys() : []), ...accumulators.map((a) => a.finish(groups))];
      const all = new RecordBatch(outputSchema, makeData({ type, length: groups, nullCount: 0, children }));
      const out: RecordBatch[] = [];
      for (let start = 0; start < groups; start += OUTPUT_ROWS) {
        out.push(groups <= OUTPUT_ROWS ? all : all.slice(start, Math.min(groups, start + OUTPUT_ROWS)));
      }
      return out;
    };

    return {
      push(batch) {
        const n = batch.numRows;
        if (n === 0) return;
        const columns = batch.data.children;
        const { keys, accumulators } = state;
        let ids: Int32Array;
        if (keys) {
          ids = keys.insert(keyColumns.map((c) => columns[c]));
        } else {
          if (zeros.length < n) zeros = new Int32Array(n);
          ids = zeros.subarray(0, n);
        }
        const groups = keys ? keys.size : 1;
        accumulators.forEach((a, i) => a.push(valueColumns[i] < 0 ? null : decodeDictionary(columns[valueColumns[i]]), ids, groups));
      },
      endPartition: () => (p.scope === 'partition' ? emit() : null),
      end: () => (p.scope === 'all' ? emit() : null),
    };
  },
});
