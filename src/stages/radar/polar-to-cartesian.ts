// `radar.polar-to-cartesian`: one weather-radar sweep (a source.odim row) resampled onto a square
// Cartesian grid centred on the radar, by nearest neighbour. Pixel (row i, column j) has its centre
// at x = −extent + (j + ½)·pixel east, y = extent − (i + ½)·pixel north (row 0 is the north edge, as
// an image). Its ground distance s = √(x² + y²) becomes a slant range r by the 4/3-earth model
// (lib/sweep.ts slantRange), its azimuth atan2(x, y) picks the ray with the nearest centre, and r the
// range bin holding it (rstart + k·rscale ≤ r < rstart + (k+1)·rscale); cells beyond the sweep's
// range, or where the beam never reaches, are NaN. `columns` names the polar tensors to resample
// (default `data`; e.g. also the `clutter` mask of radar.clutter-filter); each becomes a [y, x]
// tensor, `azimuth_deg` is dropped, and `pixel_m`, `extent_m` are added.
import { Field, Float64, Schema, makeData } from 'apache-arrow';
import { z } from 'zod';
import { makeBatch } from '../../arrow/batch.ts';
import { tensorData, tensorField, tensorInfo } from '../../arrow/tensor.ts';
import { SchemaError } from '../../workflow/errors.ts';
import { defineMap } from '../../workflow/stage.ts';
import { rayLookup, slantRange, sweepOf, sweepShape } from './lib/sweep.ts';

const params = z.object({
  pixel: z.number().positive().describe('pixel size, metres'),
  extent: z.number().positive().describe('half-width of the grid, metres: it spans [−extent, extent] east and north'),
  columns: z.array(z.string().min(1)).min(1).default(['data']).describe('[azimuth, range] tensors to resample'),
}).strict();

/** Most pixels along a side: a grid of 8192² float32 values is 256 MiB per row. */
const MAX_SIDE = 8192;

export const polarToCartesian = defineMap({
  name: 'radar.polar-to-cartesian',
  kind: 'map',
  version: '1',
  description: 'Nearest-neighbour resampling of a radar sweep onto a Cartesian grid centred on the radar (4/3 effective-earth-radius ground range); NaN outside the sweep.',
  params,
  outputSchema({ params: p, inputs: [input] }) {
    const shape = sweepShape(input);
    const side = Math.round((2 * p.extent) / p.pixel);
    if (side < 1 || side > MAX_SIDE) throw new SchemaError(`extent ${p.extent} m at pixel ${p.pixel} m gives ${side} pixels a side; it must be 1 to ${MAX_SIDE}`);
    const grids = new Set(p.columns);
    for (const name of grids) {
      const info = tensorInfo(input, name);
      if (info.shape.length !== 2 || info.shape[0] !== shape.rays || info.shape[1] !== shape.bins) {
        throw new SchemaError(`column '${name}' is a ${JSON.stringify(info.shape)} tensor, not [${shape.rays}, ${shape.bins}] like 'data'`);
      }
    }
    const fields = input.fields.filter((f) => f.name !== 'azimuth_deg')
      .map((f) => (grids.has(f.name) ? tensorField(f.name, { shape: [side, side], dimNames: ['y', 'x'], kind: tensorInfo(input, f.name).kind }) : f));
    return new Schema([...fields, new Field('pixel_m', new Float64(), false), new Field('extent_m', new Float64(), false)], input.metadata);
  },
  create(p, { inputSchema, outputSchema }) {
    const shape = sweepShape(inputSchema);
    const side = Math.round((2 * p.extent) / p.pixel);
    const half = (side * p.pixel) / 2;
    return (batch) => {
      const n = batch.numRows;
      const out: Record<string, Float32Array | Float64Array> = {};
      for (const name of p.columns) out[name] = tensorInfo(outputSchema, name).kind === 'float64' ? new Float64Array(n * side * side) : new Float32Array(n * side * side);
      for (let row = 0; row < n; row++) {
        const geometry = sweepOf(batch, row, shape);
        const nearestRay = rayLookup(geometry.azimuths);
        const rangeEnd = geometry.rstart + geometry.nbins * geometry.rscale;
        // Where each pixel reads in the polar tensor (-1: nowhere), shared by every column.
        const source = new Int32Array(side * side);
        for (let i = 0; i < side; i++) {
          const y = half - (i + 0.5) * p.pixel;
          for (let j = 0; j < side; j++) {
            const x = -half + (j + 0.5) * p.pixel;
            const r = slantRange(Math.hypot(x, y), geometry.elevation);
            if (!(r >= geometry.rstart && r < rangeEnd)) { source[i * side + j] = -1; continue; }
            const bin = Math.floor((r - geometry.rstart) / geometry.rscale);
            const az = (Math.atan2(x, y) * 180) / Math.PI;
            source[i * side + j] = nearestRay(az) * shape.bins + bin;
          }
        }
        for (const name of p.columns) {
          const values = sweepOf(batch, row, shape, name).values;
          const grid = out[name].subarray(row * side * side, (row + 1) * side * side);
          for (let k = 0; k < source.length; k++) grid[k] = source[k] < 0 ? NaN : values[source[k]];
        }
      }
      const children = outputSchema.fields.map((f) => {
        if (f.name in out) return tensorData(f, out[f.name], n);
        if (f.name === 'pixel_m' || f.name === 'extent_m') {
          return makeData({ type: new Float64(), length: n, nullCount: 0, data: new Float64Array(n).fill(f.name === 'pixel_m' ? p.pixel : half) });
        }
        return batch.getChild(f.name)!.data[0];
      });
      return makeBatch(outputSchema, children, n);
    };
  },
});
