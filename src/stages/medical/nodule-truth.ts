// `medical.nodule-truth`: the simulated nodules medical.insert-nodules wrote, one row each: the
// volume's key columns (`keys`, default series and copy), then nodule, kind, diameter_mm,
// core_diameter_mm, core_hu, halo_hu, the centre in voxels (i, j, k) and in RAS mm (x_mm, y_mm, z_mm).
import { Field, Float64, Int32, Schema, Utf8, vectorFromArray, type RecordBatch } from 'apache-arrow';
import { z } from 'zod';
import { requireColumn } from '../../arrow/columns.ts';
import { makeBatch } from '../../arrow/batch.ts';
import { takeBatch } from '../../arrow/take.ts';
import { floatData } from '../../arrow/added-columns.ts';
import { SchemaError } from '../../workflow/errors.ts';
import { defineMap } from '../../workflow/stage.ts';
import type { Nodule } from './lib/nodules.ts';

const params = z.object({
  keys: z.array(z.string().min(1)).min(1).default(['series', 'copy']).describe('the columns naming a volume'),
  column: z.string().min(1).default('nodules').describe("the truth medical.insert-nodules wrote"),
}).strict();

const numberColumns = ['diameter_mm', 'core_diameter_mm', 'core_hu', 'halo_hu', 'i', 'j', 'k', 'x_mm', 'y_mm', 'z_mm'] as const;

export const noduleTruth = defineMap({
  name: 'medical.nodule-truth',
  kind: 'map',
  version: '1',
  description: 'One row per simulated nodule (medical.insert-nodules\' `nodules`): kind, diameter, HU, centre in voxels and mm.',
  params,
  outputSchema({ params: p, inputs: [input] }) {
    const truth = requireColumn(input, p.column);
    if (truth.type.typeId !== new Utf8().typeId) throw new SchemaError(`'${p.column}' must be the JSON text medical.insert-nodules writes`);
    const keys = p.keys.map((k) => requireColumn(input, k));
    return new Schema([...keys, new Field('nodule', new Int32(), false), new Field('kind', new Utf8(), false),
      ...numberColumns.map((name) => new Field(name, new Float64(), name === 'halo_hu'))]);
  },
  create(p, { outputSchema }) {
    return (batch: RecordBatch) => {
      const rows: number[] = [];
      const nodules: Nodule[] = [];
      for (let r = 0; r < batch.numRows; r++) {
        const text = batch.getChild(p.column)!.get(r) as string;
        let parsed: Nodule[];
        try {
          parsed = JSON.parse(text) as Nodule[];
        } catch (error) {
          throw new Error(`row ${r}: '${p.column}' is not the JSON medical.insert-nodules writes (${(error as Error).message})`);
        }
        for (const nodule of parsed) {
          rows.push(r);
          nodules.push(nodule);
        }
      }
      const keys = takeBatch(batch, Int32Array.from(rows));
      return makeBatch(outputSchema, [
        ...p.keys.map((k) => keys.getChild(k)!.data[0]),
        vectorFromArray(nodules.map((n) => n.nodule), new Int32()).data[0],
        vectorFromArray(nodules.map((n) => n.kind), new Utf8()).data[0],
        ...numberColumns.map((name) => floatData(Float64Array.from(nodules, (n) => n[name] ?? NaN))),
      ], nodules.length);
    };
  },
});
