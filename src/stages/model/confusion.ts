// `model.confusion`: the confusion matrix of a classifier of several classes, overall and per group
// (e.g. per SNR). The truth is a class name or a class index into `classes`; the prediction is a
// class name or index, or a float tensor of one score per class (model.predict's `prediction` of a
// one-hot model), whose largest entry is the predicted class. One row per group and true class:
// `rows`, one count column per predicted class (named after the class), `recall` (the share of
// that class's rows predicted right) and `accuracy` (the group's share right); the group `all`
// covers every row. Groups are sorted as numbers where they all are numbers.
import { Field, Float64, Int64, Schema, Type, Utf8, vectorFromArray, type RecordBatch } from 'apache-arrow';
import { z } from 'zod';
import { makeBatch } from '../../arrow/batch.ts';
import { requireColumn } from '../../arrow/columns.ts';
import { tensorInfo, tensorValues } from '../../arrow/tensor.ts';
import { SchemaError } from '../../workflow/errors.ts';
import { defineReduce } from '../../workflow/stage.ts';

const params = z.object({
  truth: z.string().min(1).describe('the true class: a name, or an index into classes'),
  predicted: z.string().min(1).describe('the predicted class (name or index), or a tensor of one score per class'),
  classes: z.array(z.string().min(1)).min(2).describe('the class names, in index order'),
  by: z.string().min(1).optional().describe('a column to break the matrix down by'),
}).strict();

type Params = z.output<typeof params>;

const outputSchema = (p: Params) => new Schema([
  new Field('group', new Utf8(), false), new Field('truth', new Utf8(), false), new Field('rows', new Int64(), false),
  ...p.classes.map((c) => new Field(c, new Int64(), false)),
  new Field('recall', new Float64(), true), new Field('accuracy', new Float64(), true),
]);

/** Index of the largest of `n` values at `values[at..]` (the first of ties). */
const argmax = (values: ArrayLike<number>, at: number, n: number) => {
  let best = 0;
  for (let i = 1; i < n; i++) if (values[at + i] > values[at + best]) best = i;
  return best;
};

export const confusion = defineReduce({
  name: 'model.confusion',
  kind: 'reduce',
  version: '1',
  description: 'Confusion matrix of a classifier of several classes (names, indices, or per-class scores), with recall and accuracy, overall and per group.',
  params,
  outputSchema({ params: p, inputs: [input] }) {
    if (new Set(p.classes).size !== p.classes.length) throw new SchemaError('classes must be different names');
    for (const reserved of ['group', 'truth', 'rows', 'recall', 'accuracy']) if (p.classes.includes(reserved)) throw new SchemaError(`a class may not be called '${reserved}'`);
    requireColumn(input, p.truth);
    const predicted = requireColumn(input, p.predicted);
    if (predicted.type.typeId === Type.FixedSizeList) {
      const { shape } = tensorInfo(input, p.predicted);
      if (shape.length !== 1 || shape[0] !== p.classes.length) throw new SchemaError(`'${p.predicted}' holds ${JSON.stringify(shape)} scores a row, not one for each of the ${p.classes.length} classes`);
    }
    if (p.by) requireColumn(input, p.by);
    return outputSchema(p);
  },
  scope: () => 'all',
  create(p, { inputSchemas: [input] }) {
    const C = p.classes.length;
    const scores = requireColumn(input, p.predicted).type.typeId === Type.FixedSizeList;
    const classOf = (value: unknown, row: number, column: string): number => {
      const i = typeof value === 'number' || typeof value === 'bigint' ? Number(value) : p.classes.indexOf(String(value));
      if (!(i >= 0 && i < C && Number.isInteger(i))) throw new Error(`row ${row}: '${column}' is ${String(value)}, not one of the classes ${p.classes.join(', ')}`);
      return i;
    };
    const counts = new Map<string, Float64Array>(); // group → C × C counts
    const tally = (group: string, t: number, q: number) => {
      if (!counts.has(group)) counts.set(group, new Float64Array(C * C));
      counts.get(group)![t * C + q]++;
    };
    let seen = 0;
    return {
      push(batch: RecordBatch) {
        const truth = batch.getChild(p.truth)!;
        const predicted = batch.getChild(p.predicted)!;
        const values = scores ? tensorValues(batch, p.predicted) : undefined;
        for (let i = 0; i < batch.numRows; i++, seen++) {
          const t = classOf(truth.get(i), seen, p.truth);
          const q = values ? argmax(values, i * C, C) : classOf(predicted.get(i), seen, p.predicted);
          tally('all', t, q);
          if (p.by) tally(String(batch.getChild(p.by)!.get(i)), t, q);
        }
      },
      end() {
        const groups = [...counts.keys()].filter((g) => g !== 'all');
        const numeric = groups.every((g) => g !== '' && Number.isFinite(Number(g)));
        groups.sort(numeric ? (a, b) => Number(a) - Number(b) : undefined);
        if (counts.has('all')) groups.push('all');
        const rows: { group: string; truth: string; n: number; cells: number[]; recall: number | null; accuracy: number | null }[] = [];
        for (const g of groups) {
          const m = counts.get(g)!;
          let right = 0;
          let total = 0;
          for (let t = 0; t < C; t++) for (let q = 0; q < C; q++) {
            total += m[t * C + q];
            if (t === q) right += m[t * C + q];
          }
          for (let t = 0; t < C; t++) {
            const cells = Array.from(m.subarray(t * C, (t + 1) * C));
            const n = cells.reduce((a, b) => a + b, 0);
            rows.push({ group: g, truth: p.classes[t], n, cells, recall: n ? cells[t] / n : null, accuracy: total ? right / total : null });
          }
        }
        const schema = outputSchema(p);
        const int = (values: number[]) => vectorFromArray(values.map((v) => BigInt(v)), new Int64()).data[0];
        return makeBatch(schema, [
          vectorFromArray(rows.map((r) => r.group), new Utf8()).data[0],
          vectorFromArray(rows.map((r) => r.truth), new Utf8()).data[0],
          int(rows.map((r) => r.n)),
          ...p.classes.map((_, q) => int(rows.map((r) => r.cells[q]))),
          vectorFromArray(rows.map((r) => r.recall), new Float64()).data[0],
          vectorFromArray(rows.map((r) => r.accuracy), new Float64()).data[0],
        ], rows.length);
      },
    };
  },
});
