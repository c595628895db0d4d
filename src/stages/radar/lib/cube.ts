// What the radar stages share about their rows: a CPI row (from source.sigmf or a stage before)
// holds `data`, a [pulses, samples, 2] tensor of complex samples, beside scalar geometry columns
// (`sample_rate_hz`, `pri_s`, ...) that pass through. Stages replace `data` and keep the rest.
import { Schema, type Data, type Field, type RecordBatch } from 'apache-arrow';
import { makeBatch } from '../../../arrow/batch.ts';
import { newFloatArray, tensorData, tensorInfo, tensorValues, type FloatArray, type FloatKind } from '../../../arrow/tensor.ts';
import { requireColumn } from '../../../arrow/columns.ts';
import { ColumnTypeError } from '../../../workflow/errors.ts';

export interface CubeShape {
  pulses: number;
  samples: number;
  kind: FloatKind;
}

/** The shape of the complex `data` tensor; a ColumnTypeError if it is not [pulses, samples, 2]. */
export function cubeShape(schema: Schema): CubeShape {
  const info = tensorInfo(schema, 'data');
  if (info.shape.length !== 3 || info.shape[2] !== 2) {
    throw new ColumnTypeError('data', 'a complex [pulses, samples, 2] tensor (as source.sigmf reads)', `a tensor of shape ${JSON.stringify(info.shape)}`);
  }
  return { pulses: info.shape[0], samples: info.shape[1], kind: info.kind };
}

/** `schema` with column `name` replaced by `field` (same position), and `extra` fields appended. */
export function replaceField(schema: Schema, name: string, field: Field, extra: Field[] = []): Schema {
  return new Schema([...schema.fields.map((f) => (f.name === name ? field : f)), ...extra], schema.metadata);
}

/** A per-row number from a scalar column (`pri_s`...), or the param that overrides it. */
export function rowNumber(batch: RecordBatch, column: string, row: number, override?: number): number {
  if (override !== undefined) return override;
  const value = batch.getChild(column)?.get(row) as number | null | undefined;
  if (value === null || value === undefined || !Number.isFinite(value)) {
    throw new Error(`row ${row} has no '${column}' (give it as a param, or record it in the SigMF meta file)`);
  }
  return Number(value);
}

/** Checks at schema time that a per-row number will be found: a column, or a param. */
export function requireNumber(schema: Schema, column: string, override: number | undefined) {
  if (override === undefined) requireColumn(schema, column);
}

/**
 * A batch with `data` replaced, computed row by row: `compute(row, input, output)` gets the row's
 * input tensor and fills its output tensor (`outLength` values, zeroed); `extra` gives the data of
 * columns the stage adds.
 */
export function mapRows(batch: RecordBatch, outSchema: Schema, outLength: number,
  compute: (row: number, input: FloatArray, output: FloatArray) => void, extra: Record<string, Data> = {}): RecordBatch {
  const inSize = (batch.schema.fields.find((f) => f.name === 'data')!.type as { listSize: number }).listSize;
  const field = outSchema.fields.find((f) => f.name === 'data')!;
  const input = tensorValues(batch, 'data');
  const output = newFloatArray(tensorInfo(outSchema, 'data').kind, batch.numRows * outLength);
  for (let row = 0; row < batch.numRows; row++) {
    compute(row, input.subarray(row * inSize, (row + 1) * inSize), output.subarray(row * outLength, (row + 1) * outLength));
  }
  const children = outSchema.fields.map((f) => (f.name === 'data' ? tensorData(field, output, batch.numRows)
    : extra[f.name] ?? batch.getChild(f.name)!.data[0]));
  return makeBatch(outSchema, children, batch.numRows);
}
