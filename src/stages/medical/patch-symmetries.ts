// `medical.patch-symmetries`: more training patches for a 3-D classifier from the ones there are,
// without interpolation. Each row is kept (variant 0) and followed by `copies` variants, each the
// cube under a different one of its 15 other symmetries (lib/cube-symmetries.ts: axis flips, and
// the 90° rotations and mirrors of the axial plane), drawn at random. A lung's structures look
// alike mirrored left to right, and a nodule has no orientation, so a classifier trained on one
// lung should not learn which way its patches face. A row's draws are seeded by `seed` and the
// patch's values, so they repeat bit for bit however the rows are batched. Adds `variant`.
import { createHash } from 'node:crypto';
import { Field, Int32, makeData, type RecordBatch } from 'apache-arrow';
import { z } from 'zod';
import { makeBatch } from '../../arrow/batch.ts';
import { takeBatch } from '../../arrow/take.ts';
import { tensorData, tensorInfo, tensorValues } from '../../arrow/tensor.ts';
import { withColumns } from '../../arrow/added-columns.ts';
import { Random } from '../../numeric/random.ts';
import { SchemaError } from '../../workflow/errors.ts';
import { defineMap } from '../../workflow/stage.ts';
import { cubeSymmetries, symmetric } from './lib/cube-symmetries.ts';

const params = z.object({
  column: z.string().min(1).default('patch').describe('a cubic 3-D float tensor column [slice, row, column]'),
  copies: z.number().int().min(1).max(cubeSymmetries - 1),
  seed: z.number().int().default(0),
}).strict();

/** `count` distinct symmetries from 1-15 (a partial Fisher-Yates shuffle). */
function drawSymmetries(random: Random, count: number): number[] {
  const pool = Array.from({ length: cubeSymmetries - 1 }, (_, i) => i + 1);
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(random.uniform() * (pool.length - i));
    [pool[i], pool[j]] = [pool[j], pool[i]];
  }
  return pool.slice(0, count);
}

export const patchSymmetries = defineMap({
  name: 'medical.patch-symmetries',
  kind: 'map',
  version: '1',
  description: 'Each cube patch row kept and followed by `copies` variants under distinct random axis flips and axial 90° rotations; adds `variant`.',
  params,
  outputSchema({ params: p, inputs: [input] }) {
    const { shape } = tensorInfo(input, p.column);
    if (shape.length !== 3 || shape[1] !== shape[0] || shape[2] !== shape[0]) throw new SchemaError(`'${p.column}' must hold cubes (n × n × n), not ${shape.join(' × ')} tensors`);
    if (input.fields.some((f) => f.name === 'variant')) throw new SchemaError("the input already has a column 'variant'");
    return withColumns(input, [new Field('variant', new Int32(), false)]);
  },
  create(p, { inputSchema, outputSchema }) {
    const size = tensorInfo(inputSchema, p.column).shape[0];
    const voxels = size ** 3;
    const column = inputSchema.fields.findIndex((f) => f.name === p.column);
    const per = p.copies + 1;
    return (batch: RecordBatch) => {
      const n = batch.numRows * per;
      const taken = takeBatch(batch, Int32Array.from({ length: n }, (_, i) => Math.floor(i / per)));
      const values = Float32Array.from(tensorValues(taken, p.column));
      for (let r = 0; r < batch.numRows; r++) {
        const patch = values.slice(r * per * voxels, (r * per + 1) * voxels);
        const digest = createHash('sha256').update(String(p.seed)).update(new Uint8Array(patch.buffer)).digest();
        drawSymmetries(new Random(digest.readUInt32LE(0)), p.copies)
          .forEach((s, c) => values.set(symmetric(patch, size, s), (r * per + c + 1) * voxels));
      }
      const children = [...taken.data.children];
      children[column] = tensorData(inputSchema.fields[column], values, n);
      children.push(makeData({ type: new Int32(), length: n, nullCount: 0, data: Int32Array.from({ length: n }, (_, i) => i % per) }));
      return makeBatch(outputSchema, children, n);
    };
  },
});
