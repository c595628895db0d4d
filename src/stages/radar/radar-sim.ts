// `source.radar-sim`: simulated radar CPIs (src/stages/radar/lib/simulate.ts) as rows shaped exactly
// like source.sigmf's, one partition per CPI, so a workflow, test or benchmark can run on known
// targets without files. `quiver simulate` writes the same CPIs as SigMF with a truth table.
import { z } from 'zod';
import { speedOfLight } from './lib/chirp.ts';
import { cpiRandom, scenarioSchema, simulateCpi, type Scenario } from './lib/simulate.ts';
import { defineSource, type Chunk } from '../../workflow/stage.ts';
import { cpiBatch, cpiSchema, type Geometry } from '../../../connectors/sigmf/source.ts';

const params = scenarioSchema.extend({
  cpis: z.number().int().min(1).default(1),
  seed: z.number().int().default(0),
}).strict();

/** The SigMF geometry a scenario records. */
export function scenarioGeometry(s: Scenario): Geometry {
  return {
    datatype: 'cf32_le', channels: s.channels, pulses: s.pulses, samples: s.samples, sampleRate: s.sample_rate_hz,
    frequency: s.center_frequency_hz, pri: s.pri_s, pulseWidth: s.chirp?.pulse_width_s ?? null,
    chirpBandwidth: s.chirp?.bandwidth_hz ?? null, gateStart: s.record_gate_start_s,
    elementSpacing: s.element_spacing_m ?? speedOfLight / s.center_frequency_hz / 2,
  };
}

export const radarSimSource = defineSource({
  name: 'source.radar-sim',
  kind: 'source',
  version: '1',
  description: 'Simulated radar CPIs with known targets in noise, K-distributed clutter and jamming; rows as source.sigmf gives them.',
  params,
  async discover(p) {
    const schema = cpiSchema(scenarioGeometry(p));
    const partitions = Array.from({ length: p.cpis }, (_, cpi) => ({
      key: `sim#cpi${cpi}`,
      chunks: (): Chunk[] => [{ cpi }],
    }));
    return { schema, partitions };
  },
  *read(chunk, p, { schema }) {
    const cpi = (chunk as { cpi: number }).cpi;
    const { data } = simulateCpi(p, cpiRandom(p.seed, cpi), cpi);
    yield cpiBatch(schema, 'sim', cpi, scenarioGeometry(p), data);
  },
});
