// `quiver simulate SCENARIO.yaml [--out DIR]`: writes simulated radar CPIs as a SigMF recording
// (NAME.sigmf-meta + NAME.sigmf-data) and what went into them as NAME.truth.csv, one row per
// target per CPI. The scenario file holds `name`, `cpis`, `seed` and the scenario of
// src/stages/radar/lib/simulate.ts; the same file always gives the same bytes.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { scenarioGeometry } from '../stages/radar/radar-sim.ts';
import { atomicWrite, writeSigmf } from '../../connectors/sigmf/write.ts';
import { cpiRandom, scenarioSchema, simulateCpi, type TruthRow } from '../stages/radar/lib/simulate.ts';
import { parseFlags } from './args.ts';
import { UsageError } from './usage-error.ts';

const fileSchema = scenarioSchema.extend({
  name: z.string().regex(/^[a-z0-9-]+$/, 'lower-case letters, digits and dashes'),
  description: z.string().default('simulated radar CPIs (quiver simulate)'),
  cpis: z.number().int().min(1),
  seed: z.number().int().default(0),
}).strict();

export async function simulateCommand(args: string[]): Promise<number> {
  const { values, target } = parseFlags(args, { out: { type: 'string' } }, 'one scenario file');
  const parsed = fileSchema.safeParse(parse(readFileSync(target, 'utf8')));
  if (!parsed.success) {
    throw new UsageError(`${target}: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'scenario'}: ${i.message}`).join('; ')}`);
  }
  const scenario = parsed.data;
  const base = join(values.out ?? dirname(target), scenario.name);
  const cpis: Float32Array[] = [];
  const truth: TruthRow[] = [];
  for (let cpi = 0; cpi < scenario.cpis; cpi++) {
    const simulated = simulateCpi(scenario, cpiRandom(scenario.seed, cpi), cpi);
    cpis.push(simulated.data);
    truth.push(...simulated.truth);
  }
  const perCpi = scenario.pulses * scenario.samples;
  writeSigmf(base, {
    geometry: scenarioGeometry(scenario),
    description: scenario.description,
    cpis,
    annotations: truth.map((t) => ({
      'core:sample_start': t.cpi * perCpi,
      'core:sample_count': perCpi,
      'core:comment': `simulated target: CPI ${t.cpi}, range sample ${t.range_bin}, ${t.doppler_hz} Hz, SNR ${t.snr_db} dB, Swerling ${t.swerling}`,
      'radar:cpi': t.cpi, 'radar:range_bin': t.range_bin, 'radar:doppler_hz': t.doppler_hz, 'radar:snr_db': t.snr_db,
    })),
  });
  const columns = ['cpi', 'range_bin', 'range_m', 'doppler_hz', 'snr_db', 'swerling', 'angle_deg', 'power'] as const;
  atomicWrite(`${base}.truth.csv`, [columns.join(','), ...truth.map((t) => columns.map((c) => t[c]).join(','))].join('\n') + '\n');
  process.stdout.write(`wrote ${base}.sigmf-meta, .sigmf-data (${scenario.cpis} CPIs) and .truth.csv (${truth.length} targets)\n`);
  return 0;
}
