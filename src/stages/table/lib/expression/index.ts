// The expression language used by table.filter and table.derive: compile once against a schema
// (all errors surface here), then evaluate over any number of batches with that schema.
// An interpreter over whole columns: no eval, no generated code. The language is in README.md.
import { Type, type Data, type DataType, type RecordBatch, type Schema } from 'apache-arrow';
import { check, type CheckOptions } from './check.ts';
import { evaluate, type Frame } from './evaluate.ts';
import { parse } from './parser.ts';
import type { Typed } from './typing.ts';
import { readColumn, toData, type BoolVec, type Vec } from './vectors.ts';

export { functions, type FunctionDef } from './functions.ts';
export type { CheckOptions } from './check.ts';

export interface CompiledExpression {
  text: string;
  /** The result type (integers are int64 and floats float64 unless a function says otherwise). */
  type: DataType;
  /** The expression over a batch whose schema is the one it was compiled against. */
  evaluate(batch: RecordBatch): Data;
  /** The same over columns given by position (derive passes its growing list of columns). */
  evaluateColumns(columns: readonly Data[], rows: number): Data;
  /** bool expressions only: one byte per row, 1 where true, 0 where false or null (SQL WHERE). */
  mask(columns: readonly Data[], rows: number): Uint8Array;
}

function frameOf(columns: readonly Data[], n: number): Frame {
  // Each column is read once per batch however often the expression names it.
  const read = new Map<number, Vec>();
  return {
    n,
    column(index) {
      let vec = read.get(index);
      if (!vec) read.set(index, (vec = readColumn(columns[index], n)));
      return vec;
    },
  };
}

/**
 * Parses and type-checks `text` against `schema`. Throws MissingColumnError for an unknown column,
 * ColumnTypeError for a column whose type does not fit where it is used, and SchemaError (quoting
 * the expression) for everything else.
 */
export function compileExpression(text: string, schema: Schema, options: CheckOptions = {}): CompiledExpression {
  const tree: Typed = check(parse(text), schema, text, options);
  const run = (columns: readonly Data[], n: number): Vec => evaluate(tree, frameOf(columns, n));
  const compiled: CompiledExpression = {
    text,
    type: tree.type,
    evaluate: (batch) => compiled.evaluateColumns(batch.data.children, batch.numRows),
    evaluateColumns(columns, n) {
      // A bare column is passed through as it is (same buffers, same type).
      if (tree.kind === 'column') return columns[tree.index];
      return toData(run(columns, n), tree.type, n);
    },
    mask(columns, n) {
      if (tree.type.typeId !== Type.Bool && tree.type.typeId !== Type.Null) throw new Error(`'${text}' is ${tree.type}, not bool`);
      const keep = new Uint8Array(n);
      if (tree.type.typeId === Type.Null) return keep;
      const v = run(columns, n) as BoolVec;
      if (v.scalar) return v.values[0] && (!v.valid || v.valid[0]) ? keep.fill(1) : keep;
      const { values, valid } = v;
      if (!valid) return values;
      for (let i = 0; i < n; i++) keep[i] = values[i] & valid[i];
      return keep;
    },
  };
  return compiled;
}
