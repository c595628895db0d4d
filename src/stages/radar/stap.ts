// `radar.stap`: post-Doppler adaptive space-time processing of each CPI (all channels of one CPI,
// as source.sigmf gives them, in one batch), into a [doppler, range] map with the columns and layout
// radar.doppler emits after radar.beamform (`beam`, `angle_deg`, `doppler_hz`, `range_m`), so
// radar.cfar runs unchanged after it. `method: efa` (extended factored, default) adapts jointly over
// the channels of Doppler bins k-1, k, k+1 (3M DOF); `factored` over bin k alone (M DOF). Training
// cells are taken around each cell under test with guard cells excluded, and R is diagonally loaded
// relative to the noise power estimated from the data. The map holds the adaptive matched filter
// statistic (`output: amf`, |uᴴz|²/(sᴴu), u = R⁻¹s: SINR against the local interference, mean 1
// where there is none) or the filter output power (`output: power`, scaled like the conventional
// beam + Doppler map). Algorithm: lib/stap.ts.
import { Field, Float64, Int32, makeData, type RecordBatch } from 'apache-arrow';
import { z } from 'zod';
import { makeBatch } from '../../arrow/batch.ts';
import { requireColumn } from '../../arrow/columns.ts';
import { newFloatArray, tensorData, tensorField, tensorValues } from '../../arrow/tensor.ts';
import { takeData } from '../../arrow/take.ts';
import { defineMap } from '../../workflow/stage.ts';
import { cpiGroups, steeringVector } from './beamform.ts';
import { axisData, axisField } from './doppler.ts';
import { metresPerSecond, speedOfLight } from './lib/chirp.ts';
import { cubeShape, replaceField, rowNumber } from './lib/cube.ts';
import { stapMap } from './lib/stap.ts';
import { unitEnergyWindow, windowName } from './lib/windows.ts';

const params = z.object({
  method: z.enum(['efa', 'factored']).default('efa').describe('efa: bins k-1..k+1 jointly (3 × channels DOF); factored: bin k alone'),
  angle_deg: z.number().default(0).describe('look direction from broadside, degrees'),
  window: windowName.default('hann').describe('taper across pulses before the Doppler FFT'),
  guard: z.number().int().min(0).default(3).describe('range cells each side of the cell under test left out of training'),
  train: z.number().int().min(1).default(48).describe('training range cells each side (2 × train in all; ≥ DOF recommended)'),
  loading: z.number().min(0).default(1).describe('diagonal loading in units of the noise power estimated from the data'),
  output: z.enum(['amf', 'power']).default('amf'),
}).strict();

export const stap = defineMap({
  name: 'radar.stap',
  kind: 'map',
  version: '1',
  description: 'Post-Doppler STAP (extended factored or factored), training cells around the cell under test with guards, diagonal loading: a [doppler, range] AMF or power map as radar.doppler emits.',
  params,
  outputSchema({ inputs: [input] }) {
    const { pulses, samples, kind } = cubeShape(input);
    for (const column of ['channel', 'element_spacing_m', 'center_frequency_hz', 'pri_s', 'sample_rate_hz']) requireColumn(input, column);
    const beams = replaceField(input, 'channel', new Field('beam', new Int32(), false), [new Field('angle_deg', new Float64(), false)]);
    return replaceField(beams, 'data', tensorField('data', { shape: [pulses, samples], dimNames: ['doppler', 'range'], kind }),
      [axisField('doppler_hz', pulses), axisField('range_m', samples)]);
  },
  create(p, { inputSchema, outputSchema }) {
    const { pulses, samples, kind } = cubeShape(inputSchema);
    const window = unitEnergyWindow(p.window, pulses);
    const bins = p.method === 'efa' ? 3 : 1;
    const shift = Math.floor(pulses / 2);
    const cube = pulses * samples * 2;
    return (batch: RecordBatch) => {
      const groups = cpiGroups(batch);
      const rows = groups.length;
      const input = tensorValues(batch, 'data');
      const output = newFloatArray(kind, rows * pulses * samples);
      const first = Int32Array.from(groups, (g) => g[0]);
      const dopplerHz = new Float64Array(rows * pulses);
      const rangeM = new Float64Array(rows * samples);
      for (const [row, group] of groups.entries()) {
        const head = group[0];
        const channels = group.map((r) => Number(batch.getChild('channel')!.get(r)));
        const wavelength = speedOfLight / rowNumber(batch, 'center_frequency_hz', head);
        const spacing = rowNumber(batch, 'element_spacing_m', head) / wavelength;
        const prf = 1 / rowNumber(batch, 'pri_s', head);
        const rate = rowNumber(batch, 'sample_rate_hz', head);
        const gate = (batch.getChild('record_gate_start_s')?.get(head) as number | null | undefined) ?? 0;
        for (let d = 0; d < pulses; d++) dopplerHz[row * pulses + d] = ((d - shift) * prf) / pulses;
        for (let n = 0; n < samples; n++) rangeM[row * samples + n] = metresPerSecond * (gate + n / rate);
        const x = input.subarray(head * cube, (head + group.length) * cube);
        stapMap(x, {
          channels: group.length, pulses, samples, bins, guard: p.guard, train: p.train, loading: p.loading, window,
          spatial: steeringVector(channels, spacing, p.angle_deg), output: p.output,
        }, output.subarray(row * pulses * samples, (row + 1) * pulses * samples));
      }
      const children = outputSchema.fields.map((f) => {
        if (f.name === 'data') return tensorData(f, output, rows);
        if (f.name === 'beam') return makeData({ type: new Int32(), length: rows, nullCount: 0, data: new Int32Array(rows) });
        if (f.name === 'angle_deg') return makeData({ type: new Float64(), length: rows, nullCount: 0, data: new Float64Array(rows).fill(p.angle_deg) });
        if (f.name === 'doppler_hz') return axisData(f, dopplerHz, rows);
        if (f.name === 'range_m') return axisData(f, rangeM, rows);
        return takeData(batch.getChild(f.name)!.data[0], first);
      });
      return makeBatch(outputSchema, children, rows);
    };
  },
});
