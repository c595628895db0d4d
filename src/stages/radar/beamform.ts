// `radar.beamform`: combines the channels of a uniform linear array into beams, one output row per
// CPI and steering angle. Channel c sits at c · element_spacing_m; a plane wave from angle θ
// (from broadside) reaches it with phase 2π c d sin θ / λ, λ from center_frequency_hz.
//   conventional: w = a(θ) / M
//   mvdr:         w = R⁻¹ a / (aᴴ R⁻¹ a), R = the CPI's sample covariance over every pulse and range
//                 sample, plus `loading` × (mean channel power) on the diagonal
// Both give wᴴ a(θ) = 1: unit gain in the look direction. The rows of one CPI (same `_source` and
// `cpi`) must arrive in one batch, as source.sigmf gives them.
import { Field, Float64, Int32, makeData, type RecordBatch } from 'apache-arrow';
import { z } from 'zod';
import { makeBatch } from '../../arrow/batch.ts';
import { newFloatArray, tensorData, tensorValues } from '../../arrow/tensor.ts';
import { takeData } from '../../arrow/take.ts';
import { solveHermitian, type ComplexVector } from '../../numeric/hermitian.ts';
import { requireColumn } from '../../arrow/columns.ts';
import { defineMap } from '../../workflow/stage.ts';
import { speedOfLight } from './lib/chirp.ts';
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
  const rRe = new Float64Array(m * m);
  const rIm = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let j = i; j < m; j++) {
      let sr = 0;
      let si = 0;
      const a = i * snapshots * 2;
      const b = j * snapshots * 2;
      for (let k = 0; k < snapshots * 2; k += 2) {
        // x_i conj(x_j)
        sr += x[a + k] * x[b + k] + x[a + k + 1] * x[b + k + 1];
        si += x[a + k + 1] * x[b + k] - x[a + k] * x[b + k + 1];
      }
      rRe[i * m + j] = rRe[j * m + i] = sr / snapshots;
      rIm[i * m + j] = si / snapshots;
      rIm[j * m + i] = -si / snapshots;
    }
  }
  let power = 0;
  for (let i = 0; i < m; i++) power += rRe[i * m + i] / m;
  for (let i = 0; i < m; i++) rRe[i * m + i] += loading * power;
  const u = solveHermitian(m, rRe, rIm, steer);
  let dr = 0;
  let di = 0;
  for (let i = 0; i < m; i++) {
    dr += steer.re[i] * u.re[i] + steer.im[i] * u.im[i]; // aᴴ u
    di += steer.re[i] * u.im[i] - steer.im[i] * u.re[i];
  }
  const d2 = dr * dr + di * di;
  // w = u / (aᴴ u)
  return {
    re: u.re.map((r, i) => (r * dr + u.im[i] * di) / d2),
    im: u.im.map((v, i) => (v * dr - u.re[i] * di) / d2),
  };
}

export const beamform = defineMap({
  name: 'radar.beamform',
  kind: 'map',
  version: '1',
  description: 'Conventional or MVDR (diagonally loaded) beamforming across the channels of a uniform linear array; unit gain at each steering angle.',
  params,
  outputSchema({ inputs: [input] }) {
    cubeShape(input);
    for (const column of ['channel', 'element_spacing_m', 'center_frequency_hz']) requireColumn(input, column);
    return replaceField(input, 'channel', new Field('beam', new Int32(), false), [new Field('angle_deg', new Float64(), false)]);
  },
  create(p, { inputSchema, outputSchema }) {
    const { pulses, samples, kind } = cubeShape(inputSchema);
    const angles = Array.isArray(p.angle_deg) ? p.angle_deg : [p.angle_deg];
    const snapshots = pulses * samples;
    return (batch: RecordBatch) => {
      const groups = cpiGroups(batch);
      const rows = groups.length * angles.length;
      const input = tensorValues(batch, 'data');
      const output = newFloatArray(kind, rows * snapshots * 2);
      const first = new Int32Array(rows);
      const angleColumn = new Float64Array(rows);
      const beamColumn = new Int32Array(rows);
      let out = 0;
      for (const group of groups) {
        const channels = group.map((row) => Number(batch.getChild('channel')!.get(row)));
        const wavelength = speedOfLight / rowNumber(batch, 'center_frequency_hz', group[0]);
        const spacing = rowNumber(batch, 'element_spacing_m', group[0]) / wavelength;
        // The group's channels, channel-major; rows of one CPI are consecutive in the batch.
        const x = input.subarray(group[0] * snapshots * 2, (group[0] + group.length) * snapshots * 2);
        for (const [beam, angle] of angles.entries()) {
          const steer = steeringVector(channels, spacing, angle);
          const w = p.method === 'mvdr' ? mvdrWeights(x, group.length, snapshots, steer, p.loading)
            : { re: steer.re.map((v) => v / group.length), im: steer.im.map((v) => v / group.length) };
          const y = output.subarray(out * snapshots * 2, (out + 1) * snapshots * 2);
          for (let m = 0; m < group.length; m++) {
            const wr = w.re[m];
            const wi = -w.im[m]; // wᴴ x: conjugated weights
            const base = m * snapshots * 2;
            for (let k = 0; k < snapshots * 2; k += 2) {
              y[k] += wr * x[base + k] - wi * x[base + k + 1];
              y[k + 1] += wr * x[base + k + 1] + wi * x[base + k];
            }
          }
          first[out] = group[0];
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
