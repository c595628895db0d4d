// `radar.beamform`: combines the channels of a uniform linear array into beams, one output row per
// CPI and steering angle. Channel c sits at c · element_spacing_m; a plane wave from angle θ
// (from broadside) reaches it with phase 2π c d sin θ / λ, λ from center_frequency_hz.
//   conventional: w = a(θ) / M
//   mvdr:         w = R⁻¹ a / (aᴴ R⁻¹ a), R = the CPI's sample covariance over every pulse and range
//                 sample, plus `loading` × (mean channel power) on the diagonal
// Both give wᴴ a(θ) = 1: unit gain in the look direction. The rows of one CPI (same `_source` and
// `cpi`) must arrive in one batch, as source.sigmf gives them. radar.beamform-learned forms its
// beams with the same helpers (beamSchema, cpiChannels, beamBatch).
import { Field, Float64, Int32, makeData, type RecordBatch, type Schema } from 'apache-arrow';
import { z } from 'zod';
import { makeBatch } from '../../arrow/batch.ts';
import { newFloatArray, tensorData, tensorValues, type FloatArray } from '../../arrow/tensor.ts';
import { takeData } from '../../arrow/take.ts';
import { solveHermitian, type ComplexVector } from '../../numeric/hermitian.ts';
import { requireColumn } from '../../arrow/columns.ts';
import { defineMap } from '../../workflow/stage.ts';
import { speedOfLight } from './lib/chirp.ts';
import { applyWeights, distortionless, sampleCovariance } from './lib/covariance.ts';
import { cubeShape, replaceField, rowNumber } from './lib/cube.ts';

const params = z.object({
  angle_deg: z.union([z.number(), z.array(z.number()).min(1)]).default(0).describe('steering angle(s) from broadside, degrees; one beam each'),
  method: z.enum(['conventional', 'mvdr']).default('conventional'),
  loading: z.number().min(0).default(0.01).describe('MVDR diagonal loading, as a fraction of the mean channel power'),
}).strict();

/** Steering vector of an M-element array with spacing/wavelength `spacing` at `angleDeg`. */
export function steeringVector(channels: number[], spacing: number, angleDeg: number): ComplexVector {
  const phase = channels.map((c) => 2 * Math.PI * c * spacing * Math.sin((angleDeg * Math.PI) / 180));
  return { re: Float64Array.from(phase, Math.cos), im: Float64Array.from(phase, Math.sin) };
}

/** MVDR weights from snapshots `x` (channel-major: channel m's samples at [m·n, (m+1)·n), interleaved I/Q). */
export function mvdrWeights(x: ArrayLike<number>, channels: number, snapshots: number, steer: ComplexVector, loading: number): ComplexVector {
  const m = channels;
  const r = sampleCovariance(x, channels, snapshots);
  let power = 0;
  for (let i = 0; i < m; i++) power += r.re[i * m + i] / m;
  for (let i = 0; i < m; i++) r.re[i * m + i] += loading * power;
  return distortionless(solveHermitian(m, r.re, r.im, steer), steer);
}

/** The schema of beam rows: `channel` replaced by `beam`, `angle_deg` added. */
export function beamSchema(input: Schema): Schema {
  cubeShape(input);
  for (const column of ['channel', 'element_spacing_m', 'center_frequency_hz']) requireColumn(input, column);
  return replaceField(input, 'channel', new Field('beam', new Int32(), false), [new Field('angle_deg', new Float64(), false)]);
}

/** One CPI of a batch: its rows, channel numbers, element spacing in wavelengths and snapshots (channel-major). */
export interface CpiChannels {
  rows: number[];
  channels: number[];
  spacing: number;
  x: FloatArray;
}

/** The CPIs of a batch (see cpiGroups), with their geometry. */
export function cpiChannels(batch: RecordBatch, snapshots: number): CpiChannels[] {
  const input = tensorValues(batch, 'data');
  return cpiGroups(batch).map((rows) => {
    const wavelength = speedOfLight / rowNumber(batch, 'center_frequency_hz', rows[0]);
    return {
      rows,
      channels: rows.map((row) => Number(batch.getChild('channel')!.get(row))),
      spacing: rowNumber(batch, 'element_spacing_m', rows[0]) / wavelength,
      // Rows of one CPI are consecutive in the batch.
      x: input.subarray(rows[0] * snapshots * 2, (rows[0] + rows.length) * snapshots * 2),
    };
  });
}

/** Beam rows: for each CPI and angle, wᴴ x with `weights[cpi][beam]`; other columns from the CPI's first row. */
export function beamBatch(batch: RecordBatch, outputSchema: Schema, cpis: CpiChannels[], angles: number[], weights: ComplexVector[][]): RecordBatch {
  const { pulses, samples, kind } = cubeShape(batch.schema);
  const snapshots = pulses * samples;
  const rows = cpis.length * angles.length;
  const output = newFloatArray(kind, rows * snapshots * 2);
  const first = new Int32Array(rows);
  const angleColumn = new Float64Array(rows);
  const beamColumn = new Int32Array(rows);
  let out = 0;
  for (const [c, cpi] of cpis.entries()) {
    for (const [beam, angle] of angles.entries()) {
      applyWeights(weights[c][beam], cpi.x, snapshots, output.subarray(out * snapshots * 2, (out + 1) * snapshots * 2));
      first[out] = cpi.rows[0];
      angleColumn[out] = angle;
      beamColumn[out] = beam;
      out++;
    }
  }
  const children = outputSchema.fields.map((f) => {
    if (f.name === 'data') return tensorData(f, output, rows);
    if (f.name === 'beam') return makeData({ type: new Int32(), length: rows, nullCount: 0, data: beamColumn });
    if (f.name === 'angle_deg') return makeData({ type: new Float64(), length: rows, nullCount: 0, data: angleColumn });
    return takeData(batch.getChild(f.name)!.data[0], first);
  });
  return makeBatch(outputSchema, children, rows);
}

export const beamform = defineMap({
  name: 'radar.beamform',
  kind: 'map',
  version: '1',
  description: 'Conventional or MVDR (diagonally loaded) beamforming across the channels of a uniform linear array; unit gain at each steering angle.',
  params,
  outputSchema: ({ inputs: [input] }) => beamSchema(input),
  create(p, { inputSchema, outputSchema }) {
    const { pulses, samples } = cubeShape(inputSchema);
    const angles = Array.isArray(p.angle_deg) ? p.angle_deg : [p.angle_deg];
    const snapshots = pulses * samples;
    return (batch: RecordBatch) => {
      const cpis = cpiChannels(batch, snapshots);
      const weights = cpis.map((cpi) => angles.map((angle) => {
        const steer = steeringVector(cpi.channels, cpi.spacing, angle);
        const m = cpi.channels.length;
        return p.method === 'mvdr' ? mvdrWeights(cpi.x, m, snapshots, steer, p.loading)
          : { re: steer.re.map((v) => v / m), im: steer.im.map((v) => v / m) };
      }));
      return beamBatch(batch, outputSchema, cpis, angles, weights);
    };
  },
});

/** Runs of consecutive rows with the same `_source` and `cpi`: the channels of one CPI. */
export function cpiGroups(batch: RecordBatch): number[][] {
  const source = batch.getChild('_source');
  const cpi = batch.getChild('cpi');
  const id = (row: number) => `${source?.get(row) ?? ''}#${cpi?.get(row) ?? ''}`;
  const groups: number[][] = [];
  for (let row = 0; row < batch.numRows; row++) {
    if (row > 0 && id(row) === id(row - 1)) groups[groups.length - 1].push(row);
    else groups.push([row]);
  }
  return groups;
}
