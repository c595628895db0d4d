// `medical.blob-candidates`: the classical nodule detector (lib/blobs.ts): maxima of the
// scale-normalised Laplacian of Gaussian inside a search region, over `scales` radii from
// radii_mm[0] to radii_mm[1] (geometric; σ = r/√3). One row per detection: the volume's key
// columns, `candidate` (1 = strongest), the voxel (i, j, k) and RAS mm (x_mm, y_mm, z_mm),
// radius_mm, sigma_mm and `log_score` (−σ²∇²G ∗ I, in HU: about 0.93 × the contrast of a ball at
// its own scale). It ranks on its own (the baseline) or, at a low threshold, proposes candidates
// for a 3-D CNN: with `patch_size`, each row also gets `patch`, the cube around it (lib/patches.ts).
import { Field, Float64, Int32, Schema, vectorFromArray, type RecordBatch } from 'apache-arrow';
import { z } from 'zod';
import { requireColumn } from '../../arrow/columns.ts';
import { makeBatch } from '../../arrow/batch.ts';
import { takeBatch } from '../../arrow/take.ts';
import { floatData } from '../../arrow/added-columns.ts';
import { tensorData, tensorField } from '../../arrow/tensor.ts';
import { defineMap } from '../../workflow/stage.ts';
import { detectBlobs, type Blob } from './lib/blobs.ts';
import { patchAt } from './lib/patches.ts';
import { gridVolume, requireVolumes } from './lib/volume-rows.ts';

const params = z.object({
  radii_mm: z.tuple([z.number().positive(), z.number().positive()]).default([1.5, 15]).refine(([a, b]) => a <= b, { message: 'radii_mm: the first must not exceed the second' })
    .describe('smallest and largest blob radius looked for'),
  scales: z.number().int().min(1).default(8).describe('scales between them (geometric)'),
  threshold: z.number().default(50).describe('lowest LoG response kept (HU)'),
  max_candidates: z.number().int().min(1).default(100).describe('strongest detections kept a volume'),
  region: z.string().min(1).default('region').describe('the mask to look in (a volume column on the row\'s grid)'),
  column: z.string().min(1).default('data'),
  keys: z.array(z.string().min(1)).min(1).default(['series', 'copy']).describe('the columns naming a volume'),
  patch_size: z.number().int().min(2).optional().describe('add `patch`: a cube of this many samples a side around each detection'),
  patch_mm: z.number().positive().default(3).describe('sample spacing of a patch'),
  window: z.tuple([z.number(), z.number()]).default([-1000, 400]).describe('patch values are clipped to this range (HU)'),
}).strict();

type Params = z.output<typeof params>;

/** The σ (mm) of each scale: radii from radii_mm[0] to radii_mm[1], geometric, over √3. */
export const scaleSigmas = (p: Pick<Params, 'radii_mm' | 'scales'>) => Array.from({ length: p.scales }, (_, s) =>
  (p.radii_mm[0] * (p.scales > 1 ? (p.radii_mm[1] / p.radii_mm[0]) ** (s / (p.scales - 1)) : 1)) / Math.sqrt(3));

const numberColumns = ['i', 'j', 'k', 'x_mm', 'y_mm', 'z_mm', 'radius_mm', 'sigma_mm', 'log_score'] as const;

export const blobCandidates = defineMap({
  name: 'medical.blob-candidates',
  kind: 'map',
  version: '1',
  description: 'Multiscale Laplacian-of-Gaussian blob detection inside a region: one row per detection (voxel, mm, radius, LoG score), optionally with a patch around it.',
  params,
  outputSchema({ params: p, inputs: [input] }) {
    requireVolumes(input, p.column);
    requireVolumes(input, p.region);
    const keys = p.keys.map((k) => requireColumn(input, k));
    return new Schema([...keys, new Field('candidate', new Int32(), false), ...numberColumns.map((n) => new Field(n, new Float64(), false)),
      ...(p.patch_size ? [tensorField('patch', { shape: [p.patch_size, p.patch_size, p.patch_size], kind: 'float32', dimNames: ['slice', 'row', 'column'] })] : [])]);
  },
  create(p, { outputSchema }) {
    const sigmas = scaleSigmas(p);
    return (batch: RecordBatch) => {
      const rows: number[] = [];
      const blobs: (Blob & { candidate: number; x_mm: number; y_mm: number; z_mm: number; log_score: number })[] = [];
      const patches: Float32Array[] = [];
      for (let r = 0; r < batch.numRows; r++) {
        const v = gridVolume(batch, r, p.column);
        const grid = { dims: [v.shape[2], v.shape[1], v.shape[0]], spacing: [v.spacing[2], v.spacing[1], v.spacing[0]] };
        const region = Uint8Array.from(gridVolume(batch, r, p.region).values, (m) => (m > 0.5 ? 1 : 0));
        detectBlobs(v.values, grid, region, sigmas, p.threshold, p.max_candidates).forEach((blob, n) => {
          const a = v.affine;
          const [x, y, z] = [0, 1, 2].map((row) => a[row * 4] * blob.i + a[row * 4 + 1] * blob.j + a[row * 4 + 2] * blob.k + a[row * 4 + 3]);
          rows.push(r);
          blobs.push({ ...blob, candidate: n + 1, x_mm: x, y_mm: y, z_mm: z, log_score: blob.score });
          if (p.patch_size) {
            const patch = new Float32Array(p.patch_size ** 3);
            patchAt(v.values, grid, [blob.i, blob.j, blob.k], p.patch_size, p.patch_mm, p.window[0], p.window, patch);
            patches.push(patch);
          }
        });
      }
      const keys = takeBatch(batch, Int32Array.from(rows));
      const n = blobs.length;
      const patchValues = new Float32Array(patches.reduce((total, q) => total + q.length, 0));
      patches.forEach((q, i) => patchValues.set(q, i * q.length));
      return makeBatch(outputSchema, [
        ...p.keys.map((k) => keys.getChild(k)!.data[0]),
        vectorFromArray(blobs.map((b) => b.candidate), new Int32()).data[0],
        ...numberColumns.map((name) => floatData(Float64Array.from(blobs, (b) => b[name]))),
        ...(p.patch_size ? [tensorData(outputSchema.fields[outputSchema.fields.length - 1], patchValues, n)] : []),
      ], n);
    };
  },
});
