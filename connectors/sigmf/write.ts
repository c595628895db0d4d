// Writes a SigMF recording as source.sigmf reads it: `BASE.sigmf-data` holding CPI after CPI of
// cf32_le samples (pulse × range sample, channels interleaved per sample) and `BASE.sigmf-meta`
// with the `radar:` geometry. Each file appears complete or not at all (temporary name, rename).
import { renameSync, writeFileSync } from 'node:fs';
import type { Geometry } from './source.ts';

export interface SigmfRecording {
  geometry: Geometry;
  description: string;
  /** Each CPI's samples as source.sigmf gives them: channel after channel of [pulses, samples, 2]. */
  cpis: Float32Array[];
  annotations: Record<string, unknown>[];
}

export function writeSigmf(base: string, r: SigmfRecording) {
  const g = r.geometry;
  const n = g.pulses * g.samples;
  const data = new Float32Array(r.cpis.length * n * g.channels * 2);
  r.cpis.forEach((cpi, k) => {
    if (cpi.length !== n * g.channels * 2) throw new RangeError(`CPI ${k} holds ${cpi.length} values, not ${n * g.channels * 2}`);
    const offset = k * n * g.channels * 2;
    for (let c = 0; c < g.channels; c++) {
      for (let i = 0; i < n; i++) {
        data[offset + (i * g.channels + c) * 2] = cpi[(c * n + i) * 2];
        data[offset + (i * g.channels + c) * 2 + 1] = cpi[(c * n + i) * 2 + 1];
      }
    }
  });
  const optional = (key: string, value: number | null) => (value === null ? {} : { [key]: value });
  const meta = {
    global: {
      'core:datatype': 'cf32_le',
      'core:sample_rate': g.sampleRate,
      'core:num_channels': g.channels,
      'core:version': '1.0.0',
      'core:description': r.description,
      'core:extensions': [{ name: 'radar', version: '0.1.0', optional: true }],
      'radar:pri_s': g.pri,
      'radar:pulses_per_cpi': g.pulses,
      'radar:samples_per_pulse': g.samples,
      ...optional('radar:pulse_width_s', g.pulseWidth),
      ...optional('radar:chirp_bandwidth_hz', g.chirpBandwidth),
      ...optional('radar:record_gate_start_s', g.gateStart),
      ...optional('radar:element_spacing_m', g.elementSpacing),
      'radar:layout': 'time-ordered: pulse (slow) x range sample (fast), channels interleaved per sample',
    },
    captures: [{ 'core:sample_start': 0, ...optional('core:frequency', g.frequency) }],
    annotations: r.annotations,
  };
  const isLittleEndian = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;
  if (!isLittleEndian) throw new Error('writing cf32_le needs a little-endian machine');
  atomicWrite(`${base}.sigmf-data`, new Uint8Array(data.buffer));
  atomicWrite(`${base}.sigmf-meta`, JSON.stringify(meta, null, 2) + '\n');
}

export function atomicWrite(path: string, content: string | Uint8Array) {
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, content);
  renameSync(temp, path);
}
