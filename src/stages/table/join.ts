// `table.join`: a hash join of two inputs, `from: [left, right]`. The right input is read first and
// held (hashed on its keys); the left streams past it partition by partition, so the output keeps
// the left's partitions and order: for each left row, its matches in right order. Null keys never
// match. Output: the left columns, then the right ones (minus right keys named like their left
// keys; other clashing names get the suffix). semi/anti give the left rows with/without a match.
import { Field, RecordBatch, Schema, Struct, makeData, type Data } from 'apache-arrow';
import { z } from 'zod';
import { concatData } from '../../arrow/concat.ts';
import { isHashable, KeyIndex } from '../../arrow/hash-keys.ts';
import { nullData } from '../../arrow/nulls.ts';
import { takeData } from '../../arrow/take.ts';
import { sameType, typeName } from '../../arrow/types.ts';
import { requireColumn, requireColumnOf } from '../../arrow/columns.ts';
import { ColumnTypeError, SchemaError } from '../../workflow/errors.ts';
import { defineReduce } from '../../workflow/stage.ts';

const OUTPUT_ROWS = 65_536;

const names = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).transform((c) => (Array.isArray(c) ? c : [c]));

const params = z.object({
  on: z.union([names, z.object({ left: names, right: names }).strict()])
    .transform((on) => (Array.isArray(on) ? { left: on, right: on } : on))
    .describe('Key columns: a name or list of names present on both sides, or {left: [...], right: [...]}'),
  how: z.enum(['inner', 'left', 'semi', 'anti']).default('inner')
    .describe('inner (default): matching pairs; left: also left rows without a match (right columns null); semi/anti: left rows with/without a match'),
  suffix: z.string().min(1).default('_right').describe("Appended to right column names that clash with left ones (default '_right')"),
}).strict();

type Params = z.output<typeof params>;

/** Which right columns the output has, and under which names. */
function rightOutputs(p: Params, left: Schema, right: Schema): { column: number; field: Field }[] {
  if (p.how === 'semi' || p.how === 'anti') return [];
  const used = new Set(left.fields.map((f) => f.name));
  const out: { column: number; field: Field }[] = [];
  right.fields.forEach((f, column) => {
    const k = p.on.right.indexOf(f.name);
    if (k >= 0 && p.on.left[k] === f.name) return; // the same key under the same name: once is enough
    let name = f.name;
    if (used.has(name)) {
      name = f.name + p.suffix;
      if (used.has(name)) throw new SchemaError(`right column '${f.name}' clashes with a left column, and so does '${name}' (try another suffix)`);
    }
    used.add(name);
    out.push({ column, field: new Field(name, f.type, f.nullable || p.how === 'left', f.metadata) });
  });
  return out;
}

export const join = defineReduce({
  name: 'table.join',
  kind: 'reduce',
  version: '1',
  description: 'Hash-joins two inputs on key columns (inner, left, semi or anti), holding the right input in memory.',
  params,
  inputs: { min: 2, max: 2 },
  outputSchema({ params: p, inputs: [left, right] }) {
    if (p.on.left.length !== p.on.right.length) {
      throw new SchemaError(`'on' pairs ${p.on.left.length} left key(s) with ${p.on.right.length} right key(s)`);
    }
    p.on.left.forEach((name, k) => {
      const l = requireColumnOf(left, name, isHashable, 'a scalar type (number, string, bool, date or timestamp)', 0);
      const r = requireColumn(right, p.on.right[k], 1);
      if (!sameType(l.type, r.type)) throw new ColumnTypeError(r.name, typeName(l.type), typeName(r.type), 1);
    });
    return new Schema([...left.fields, ...rightOutputs(p, left, right).map((o) => o.field)]);
  },
  scope: () => 'partition',
  buildInputs: () => [1],
  create(p, { inputSchemas: [left, right], outputSchema }) {
    const leftKeys = p.on.left.map((n) => left.fields.findIndex((f) => f.name === n));
    const rightKeys = p.on.right.map((n) => right.fields.findIndex((f) => f.name === n));
    const outputs = rightOutputs(p, left, right);
    const type = new Struct(outputSchema.fields);
    let rightBatches: RecordBatch[] = [];

    // The build side, made on the first left batch: the right columns (plus, for a left join, a
    // null row that unmatched left rows point at), the key index and each key's right rows.
    let built: { index: KeyIndex; columns: Data[]; nullRow: number; starts: Int32Array; rows: Int32Array } | undefined;
    const build = () => {
      const parts = (c: number) => rightBatches.map((b) => b.data.children[c]).filter((d) => d.length > 0);
      const rowCount = rightBatches.reduce((n, b) => n + b.numRows, 0);
      const keys = rightKeys.map((c) => (rowCount ? concatData(parts(c)) : nullData(right.fields[c].type, 0)));
      const index = new KeyIndex(keys.map((k) => k.type), { nullsEqual: false });
      const ids = index.insert(keys);
      // Rows grouped by key id, each group in right order (a counting sort).
      const starts = new Int32Array(index.size + 1);
      for (let r = 0; r < rowCount; r++) if (ids[r] >= 0) starts[ids[r] + 1]++;
      for (let g = 0; g < index.size; g++) starts[g + 1] += starts[g];
      const next = starts.slice(0, index.size);
      const rows = new Int32Array(starts[index.size]);
      for (let r = 0; r < rowCount; r++) if (ids[r] >= 0) rows[next[ids[r]]++] = r;
      const columns = outputs.map(({ column }) => {
        const all = [...parts(column), ...(p.how === 'left' ? [nullData(right.fields[column].type, 1)] : [])];
        return all.length ? concatData(all) : nullData(right.fields[column].type, 0);
      });
      rightBatches = [];
      built = { index, columns, nullRow: rowCount, starts, rows };
      return built;
    };

    const assemble = (batch: RecordBatch, leftRows: Int32Array, rightRows: Int32Array | null, columns: Data[]): RecordBatch => {
      const children = [
        ...batch.data.children.map((c) => takeData(c, leftRows)),
        ...(rightRows ? columns.map((c) => takeData(c, rightRows)) : []),
      ];
      return new RecordBatch(outputSchema, makeData({ type, length: leftRows.length, nullCount: 0, children }));
    };

    return {
      push(batch, at) {
        if (at.input === 1) {
          rightBatches.push(batch);
          return null;
        }
        const { index, columns, nullRow, starts, rows } = built ?? build();
        const n = batch.numRows;
        const ids = index.lookup(leftKeys.map((c) => batch.data.children[c]));
        if (p.how === 'semi' || p.how === 'anti') {
          const want = p.how === 'semi';
          let count = 0;
          for (let i = 0; i < n; i++) if ((ids[i] >= 0) === want) count++;
          if (count === n) return new RecordBatch(outputSchema, makeData({ type, length: n, nullCount: 0, children: batch.data.children }));
          const keep = new Int32Array(count);
          for (let i = 0, j = 0; i < n; i++) if ((ids[i] >= 0) === want) keep[j++] = i;
          return count ? assemble(batch, keep, null, columns) : null;
        }
        // Pairs (left row, right row), in left order then right order.
        let total = 0;
        for (let i = 0; i < n; i++) total += ids[i] >= 0 ? starts[ids[i] + 1] - starts[ids[i]] : p.how === 'left' ? 1 : 0;
        const leftRows = new Int32Array(total);
        const rightRows = new Int32Array(total);
        let j = 0;
        for (let i = 0; i < n; i++) {
          const g = ids[i];
          if (g < 0) {
            if (p.how === 'left') {
              leftRows[j] = i;
              rightRows[j++] = nullRow;
            }
            continue;
          }
          for (let k = starts[g]; k < starts[g + 1]; k++) {
            leftRows[j] = i;
            rightRows[j++] = rows[k];
          }
        }
        const out: RecordBatch[] = [];
        for (let start = 0; start < total; start += OUTPUT_ROWS) {
          const end = Math.min(total, start + OUTPUT_ROWS);
          out.push(assemble(batch, leftRows.subarray(start, end), rightRows.subarray(start, end), columns));
        }
        return out;
      },
    };
  },
});
