// The aperture-synthesis stages (src/stages/astro/lib/imaging.ts does the work):
//   astro.visibilities  rows with `u`, `v` (wavelengths) → adds `re`, `im`: the visibilities of a sky
//                       of point sources (positions in µas from the phase centre, fluxes in Jy),
//                       optionally at the (u, v) moved to the imaging grid's cell centres (`snap`)
//   astro.dirty-image   all visibility rows → one row: `dirty` and `beam` images (N × N, natural weights)
//   astro.clean         a dirty-image row → adds `model`, `residual`, `restored` (Högbom CLEAN) and `iterations`
import { Field, Float64, Int32, Schema, makeData } from 'apache-arrow';
import { z } from 'zod';
import { makeBatch } from '../../arrow/batch.ts';
import { tensorData, tensorField, tensorInfo, tensorValues } from '../../arrow/tensor.ts';
import { SchemaError } from '../../workflow/errors.ts';
import { defineMap, defineReduce } from '../../workflow/stage.ts';
import { floatData, numbers, requireNumbers, withColumns } from '../../arrow/added-columns.ts';
import { cleanBeam, convolve, dirtyImage, hogbom, pointVisibilities, snapToCell } from './lib/imaging.ts';

const UAS = Math.PI / 180 / 3600 / 1e6;
const gridParams = { npix: z.number().int().min(8).refine((n) => (n & (n - 1)) === 0, { message: 'must be a power of two' }), pixel_uas: z.number().positive() };
const gridOf = (p: { npix: number; pixel_uas: number }) => ({ n: p.npix, pixelRad: p.pixel_uas * UAS });

export const visibilities = defineMap({
  name: 'astro.visibilities',
  kind: 'map',
  version: '1',
  description: "Visibilities of a sky of point sources at each row's (u, v); adds 're', 'im'.",
  params: z.object({
    sky: z.array(z.object({ x_uas: z.number(), y_uas: z.number(), flux_jy: z.number() }).strict()).min(1),
    snap: z.object(gridParams).strict().optional().describe('sample at the cell centres of this imaging grid (dirty = sky ⊛ beam exactly)'),
  }).strict(),
  outputSchema({ inputs: [input] }) {
    requireNumbers(input, ['u', 'v']);
    return withColumns(input, [new Field('re', new Float64(), false), new Field('im', new Float64(), false)]);
  },
  create(p, { outputSchema }) {
    return (batch) => {
      const u = numbers(batch, 'u');
      const v = numbers(batch, 'v');
      if (p.snap) for (let i = 0; i < u.length; i++) [u[i], v[i]] = snapToCell(u[i], v[i], gridOf(p.snap));
      const { re, im } = pointVisibilities(u, v, p.sky.map((s) => ({ l: s.x_uas * UAS, m: s.y_uas * UAS, flux: s.flux_jy })));
      return makeBatch(outputSchema, [...batch.data.children, floatData(re), floatData(im)], batch.numRows);
    };
  },
});

export const dirtyImageStage = defineReduce({
  name: 'astro.dirty-image',
  kind: 'reduce',
  version: '1',
  description: 'Grids all visibilities (natural weights) and transforms them to a dirty image and beam; one row.',
  params: z.object(gridParams).strict(),
  outputSchema({ params: p, inputs: [input] }) {
    requireNumbers(input, ['u', 'v', 're', 'im']);
    const image = (name: string) => tensorField(name, { shape: [p.npix, p.npix], dimNames: ['y', 'x'], kind: 'float64' });
    return new Schema([image('dirty'), image('beam'), new Field('pixel_uas', new Float64(), false), new Field('visibilities', new Int32(), false)]);
  },
  scope: () => 'all',
  create(p, { outputSchema }) {
    const columns = { u: [] as number[], v: [] as number[], re: [] as number[], im: [] as number[] };
    return {
      push(batch) {
        for (const name of ['u', 'v', 're', 'im'] as const) columns[name].push(...numbers(batch, name));
      },
      end() {
        const [u, v, re, im] = (['u', 'v', 're', 'im'] as const).map((k) => Float64Array.from(columns[k]));
        const keep = u.map((_, i) => (Number.isFinite(u[i] + v[i] + re[i] + im[i]) ? 1 : 0));
        const pick = (a: Float64Array) => a.filter((_, i) => keep[i]);
        const { dirty, beam, used } = dirtyImage(pick(u), pick(v), pick(re), pick(im), gridOf(p));
        return makeBatch(outputSchema, [
          tensorData(outputSchema.fields[0], dirty, 1), tensorData(outputSchema.fields[1], beam, 1),
          floatData(Float64Array.of(p.pixel_uas)), makeData({ type: new Int32(), length: 1, nullCount: 0, data: Int32Array.of(used) }),
        ], 1);
      },
    };
  },
});

export const clean = defineMap({
  name: 'astro.clean',
  kind: 'map',
  version: '1',
  description: "Högbom CLEAN of dirty images with their beams; adds 'model', 'residual', 'restored', 'iterations'.",
  params: z.object({
    gain: z.number().gt(0).lte(1).default(0.1),
    threshold: z.number().min(0).default(0).describe('stop when the residual peak is at or below this (Jy/beam)'),
    threshold_fraction: z.number().min(0).lt(1).default(0.001).describe('… or below this fraction of the dirty peak'),
    iterations: z.number().int().min(1).default(10_000),
  }).strict(),
  outputSchema({ inputs: [input] }) {
    const { shape } = tensorInfo(input, 'dirty');
    if (JSON.stringify(tensorInfo(input, 'beam').shape) !== JSON.stringify(shape)) throw new SchemaError("'beam' must have the shape of 'dirty'");
    const image = (name: string) => tensorField(name, { shape, dimNames: ['y', 'x'], kind: 'float64' });
    return withColumns(input, [image('model'), image('residual'), image('restored'), new Field('iterations', new Int32(), false)]);
  },
  create(p, { inputSchema, outputSchema }) {
    const [n] = tensorInfo(inputSchema, 'dirty').shape;
    return (batch) => {
      const dirtyAll = tensorValues(batch, 'dirty');
      const beamAll = tensorValues(batch, 'beam');
      const images = { model: new Float64Array(batch.numRows * n * n), residual: new Float64Array(batch.numRows * n * n), restored: new Float64Array(batch.numRows * n * n) };
      const iterations = new Int32Array(batch.numRows);
      for (let r = 0; r < batch.numRows; r++) {
        const dirty = Float64Array.from(dirtyAll.subarray(r * n * n, (r + 1) * n * n));
        const beam = Float64Array.from(beamAll.subarray(r * n * n, (r + 1) * n * n));
        const peak = Math.max(...dirty.map(Math.abs));
        const result = hogbom(dirty, beam, n, { gain: p.gain, threshold: Math.max(p.threshold, p.threshold_fraction * peak), iterations: p.iterations });
        const restored = convolve(result.model, cleanBeam(beam, n), n).map((v, i) => v + result.residual[i]);
        images.model.set(result.model, r * n * n);
        images.residual.set(result.residual, r * n * n);
        images.restored.set(restored, r * n * n);
        iterations[r] = result.iterations;
      }
      const field = (name: string) => outputSchema.fields.find((f) => f.name === name)!;
      return makeBatch(outputSchema, [...batch.data.children,
        ...(['model', 'residual', 'restored'] as const).map((k) => tensorData(field(k), images[k], batch.numRows)),
        makeData({ type: new Int32(), length: batch.numRows, nullCount: 0, data: iterations })], batch.numRows);
    };
  },
});
