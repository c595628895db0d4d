// `medical.compare-masks`: segmentations scored against reference masks, `from: [predicted,
// reference]`, rows paired in order (the n-th predicted volume with the n-th reference), on one
// grid (same shape, affines within 0.01 mm: resample the reference first). For each label group
// (values of the predicted column and of the reference that count as that label: the
// TotalSegmentator lobes 10–14 as one "lung"): Dice 2|A∩B|/(|A|+|B|), IoU |A∩B|/|A∪B|, HD95 (mm),
// and both volumes (mL). One row per pair and label; none when there is no reference at all.
import { Field, Float64, Schema, Utf8, vectorFromArray, type RecordBatch } from 'apache-arrow';
import { z } from 'zod';
import { makeBatch } from '../../arrow/batch.ts';
import { volumeInfo } from '../../arrow/volume.ts';
import { defineReduce } from '../../workflow/stage.ts';
import { floatData } from '../../arrow/added-columns.ts';
import { hd95 } from './lib/distance.ts';
import { gridVolume, requireVolumes, voxelVolume, type GridVolume } from './lib/volume-rows.ts';

const params = z.object({
  predicted: z.string().min(1).default('mask').describe('the predicted input\'s mask column (on its row\'s grid)'),
  reference: z.string().min(1).default('data').describe('the reference input\'s mask column'),
  labels: z.record(z.string(), z.object({ predicted: z.array(z.number()).min(1), reference: z.array(z.number()).min(1) }).strict())
    .default({ mask: { predicted: [1], reference: [1] } }).describe('label name → the values that count as it in each mask'),
}).strict();

const schema = new Schema([
  new Field('_source', new Utf8(), false), new Field('reference_source', new Utf8(), false), new Field('label', new Utf8(), false),
  ...['dice', 'iou', 'hd95_mm', 'predicted_ml', 'reference_ml'].map((n) => new Field(n, new Float64(), true)),
]);

export interface MaskScores { dice: number; iou: number; hd95_mm: number; predicted_ml: number; reference_ml: number }

/** Scores of two 0/1 masks on one grid. */
export function scoreMasks(a: Uint8Array, b: Uint8Array, grid: { shape: number[]; spacing: number[]; affine: number[] }): MaskScores {
  let both = 0, na = 0, nb = 0;
  for (let p = 0; p < a.length; p++) {
    na += a[p];
    nb += b[p];
    both += a[p] & b[p];
  }
  const dims = [grid.shape[2], grid.shape[1], grid.shape[0]];
  const spacing = [grid.spacing[2], grid.spacing[1], grid.spacing[0]];
  const ml = voxelVolume(grid.affine) / 1000;
  return {
    dice: na + nb > 0 ? (2 * both) / (na + nb) : NaN, iou: na + nb - both > 0 ? both / (na + nb - both) : NaN,
    hd95_mm: hd95(a, b, dims, spacing), predicted_ml: na * ml, reference_ml: nb * ml,
  };
}

const member = (values: Float32Array, accepted: number[]) => {
  const set = new Set(accepted);
  return Uint8Array.from(values, (v) => (set.has(v) ? 1 : 0));
};

export const compareMasks = defineReduce({
  name: 'medical.compare-masks',
  kind: 'reduce',
  version: '1',
  description: 'Dice, IoU, HD95 and volumes of predicted masks against reference masks, per label group; rows paired in order.',
  params,
  inputs: { min: 2, max: 2 },
  outputSchema({ params: p, inputs }) {
    requireVolumes(inputs[0], 'data');
    volumeInfo(inputs[0], p.predicted);
    requireVolumes(inputs[1], p.reference);
    return schema;
  },
  scope: () => 'all',
  create(p) {
    const rows: { source: string; grid: GridVolume; mask: Float32Array }[][] = [[], []];
    return {
      push(batch: RecordBatch, at) {
        for (let r = 0; r < batch.numRows; r++) {
          const grid = gridVolume(batch, r, at.input === 0 ? 'data' : p.reference);
          const mask = at.input === 0 ? gridVolume(batch, r, p.predicted).values : grid.values;
          rows[at.input].push({ source: String(batch.getChild('_source')?.get(r) ?? ''), grid: { ...grid, values: new Float32Array(0) }, mask: Float32Array.from(mask) });
        }
      },
      end() {
        const [predicted, reference] = rows;
        // No reference given (its source matched no file): nothing to score.
        if (reference.length === 0) return makeBatch(schema, schema.fields.map((f) => vectorFromArray([], f.type).data[0]), 0);
        if (predicted.length !== reference.length) throw new Error(`${predicted.length} predicted volume(s) and ${reference.length} reference(s): rows are paired in order`);
        const out: { source: string; reference: string; label: string; s: MaskScores }[] = [];
        predicted.forEach((a, n) => {
          const b = reference[n];
          if (a.grid.shape.join() !== b.grid.shape.join()) throw new Error(`${a.source} is ${a.grid.shape.join(' × ')}, its reference ${b.source} ${b.grid.shape.join(' × ')}: resample the reference onto the same grid`);
          const off = Math.max(...a.grid.affine.map((v, i) => Math.abs(v - b.grid.affine[i])));
          if (off > 0.01) throw new Error(`${a.source} and its reference ${b.source} have affines ${off.toFixed(3)} mm apart: not one grid`);
          for (const [label, values] of Object.entries(p.labels)) {
            out.push({ source: a.source, reference: b.source, label, s: scoreMasks(member(a.mask, values.predicted), member(b.mask, values.reference), a.grid) });
          }
        });
        const text = (values: string[]) => vectorFromArray(values, new Utf8()).data[0];
        const column = (k: keyof MaskScores) => floatData(Float64Array.from(out, (o) => o.s[k]));
        return makeBatch(schema, [
          text(out.map((o) => o.source)), text(out.map((o) => o.reference)), text(out.map((o) => o.label)),
          column('dice'), column('iou'), column('hd95_mm'), column('predicted_ml'), column('reference_ml'),
        ], out.length);
      },
    };
  },
});
