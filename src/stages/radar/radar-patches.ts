// `source.radar-patches`: labelled range-Doppler patches for training and testing a learned
// detector. Each CPI is simulated (src/stages/radar/lib/simulate.ts: noise, optional K-distributed
// clutter) with Swerling I targets placed at random cells, Doppler-processed as radar.doppler does,
// and cut into patches the size of a CFAR window: centred on each target (label 1) and on cells
// whose patch holds no target (label 0); no target lies in another's patch. One partition per CPI;
// whole CPIs go to one split, so no map is seen in training and in testing.
// In clutter, `clutter_draws` gives each CPI its own shape ν and CNR (drawn from the lists),
// `target_band_hz` keeps targets inside the clutter's Doppler band, and `snr_reference:
// interference` makes `snr_db` a target's power over the mean clutter-plus-noise power of its cell.
// A patch is "CFAR-normalised" (lib/cell-windows.ts), so the detector sees the same scale-free input
// CA-CFAR thresholds. Each row also carries CA-CFAR's statistic for its centre cell (`ca_ratio`)
// and CA's factor for `pfa` over the same cells (`ca_factor`): CA detects when ca_ratio > ca_factor.
import { Field, Float64, Int32, makeData, Schema, Utf8, vectorFromArray } from 'apache-arrow';
import { z } from 'zod';
import { makeBatch } from '../../arrow/batch.ts';
import { tensorData, tensorField } from '../../arrow/tensor.ts';
import { caFactor } from './lib/cfar-factor.ts';
import { powerMap } from './doppler.ts';
import { normalisedWindows, windowShape } from './lib/cell-windows.ts';
import { clutterSpectrum, cpiRandom, interferencePower, scenarioSchema, simulateCpi, type Scenario, type Target } from './lib/simulate.ts';
import { unitEnergyWindow, windowName } from './lib/windows.ts';
import { SchemaError } from '../../workflow/errors.ts';
import { defineSource, type Chunk } from '../../workflow/stage.ts';

const positive = z.number().positive();
const half = z.object({ range: z.number().int().min(0), doppler: z.number().int().min(0) }).strict();

const params = scenarioSchema.omit({ targets: true, channels: true, jammers: true }).extend({
  cpis: z.number().int().min(1),
  seed: z.number().int().default(0),
  window: windowName.default('none').describe('Doppler window, as radar.doppler'),
  guard: half.default({ range: 2, doppler: 1 }).describe('guard cells on each side: excluded from the normalising mean'),
  train: half.default({ range: 8, doppler: 3 }).describe('cells beyond the guard on each side: the patch is the whole CFAR window'),
  snr_db: z.array(z.number()).min(1).describe('target SNR per map cell after Doppler processing; each target draws one'),
  snr_reference: z.enum(['noise', 'interference']).default('noise').describe('snr_db over the noise, or over the mean clutter-plus-noise power of the target\'s cell'),
  clutter_draws: z.object({ shape: z.array(positive).min(1), cnr_db: z.array(z.number()).min(1) }).strict().optional()
    .describe('per CPI, the clutter\'s shape ν and CNR drawn from these lists (clutter gives the rest)'),
  target_band_hz: positive.optional().describe('targets only in Doppler bins within this of the clutter\'s centre'),
  targets_per_cpi: z.number().int().min(0).default(8),
  negatives_per_cpi: z.number().int().min(0).default(64),
  split: z.object({ train: z.number().min(0), validation: z.number().min(0), test: z.number().min(0) }).strict()
    .default({ train: 0.6, validation: 0.2, test: 0.2 }).describe('fractions of the CPIs, in CPI order'),
  pfa: z.number().gt(0).lt(1).default(1e-3).describe('the false-alarm rate ca_factor is for'),
}).strict();

type Params = z.output<typeof params>;

const patchShape = (p: Params) => windowShape(p);

/** The clutter of one CPI: the scenario's, with shape and CNR drawn from `clutter_draws` if given. */
function cpiClutter(p: Params, random: { uniform(): number }): Scenario['clutter'] {
  if (!p.clutter) return undefined;
  const pick = (list: number[]) => list[Math.floor(random.uniform() * list.length)];
  return p.clutter_draws ? { ...p.clutter, shape: pick(p.clutter_draws.shape), cnr_db: pick(p.clutter_draws.cnr_db) } : p.clutter;
}

function splitOf(p: Params, cpi: number): string {
  const total = p.split.train + p.split.validation + p.split.test;
  const at = (cpi + 0.5) / p.cpis * total;
  return at < p.split.train ? 'train' : at < p.split.train + p.split.validation ? 'validation' : 'test';
}

export const radarPatchesSource = defineSource({
  name: 'source.radar-patches',
  kind: 'source',
  version: '1',
  description: 'Labelled, CFAR-normalised range-Doppler patches from simulated CPIs (Swerling I targets at given SNRs), with the CA-CFAR baseline statistic.',
  params,
  async discover(p) {
    const [height, width] = patchShape(p);
    if (height > p.pulses) throw new SchemaError(`a patch ${height} Doppler bins high does not fit ${p.pulses} pulses`);
    if (p.samples < 3 * width) throw new SchemaError(`${p.samples} range samples leave no room for patches ${width} wide`);
    if ((p.clutter_draws || p.target_band_hz) && !p.clutter) throw new SchemaError('clutter_draws and target_band_hz need clutter');
    if (p.snr_reference === 'interference' && p.window !== 'none') throw new SchemaError('snr_reference interference knows the clutter power per cell of an unwindowed map: use window none');
    const schema = new Schema([
      new Field('cpi', new Int32(), false), new Field('split', new Utf8(), false),
      tensorField('patch', { shape: [height, width], dimNames: ['doppler', 'range'], kind: 'float32' }),
      new Field('label', new Int32(), false), new Field('snr_db', new Float64(), true),
      new Field('doppler_bin', new Int32(), false), new Field('range_bin', new Int32(), false),
      new Field('ca_ratio', new Float64(), false), new Field('ca_factor', new Float64(), false),
    ]);
    const partitions = Array.from({ length: p.cpis }, (_, cpi) => ({
      key: `patches#cpi${cpi}`,
      chunks: (): Chunk[] => [{ cpi }],
    }));
    return { schema, partitions };
  },
  *read(chunk, p, { schema }) {
    const cpi = (chunk as { cpi: number }).cpi;
    const random = cpiRandom(p.seed, cpi);
    const [height, width] = patchShape(p);
    const hd = (height - 1) / 2;
    const hr = (width - 1) / 2;
    const D = p.pulses;
    const R = p.samples;
    // Targets on Doppler bin centres, whole patches inside the map, none inside another's patch.
    const binHz = 1 / p.pri_s / D;
    const clutter = cpiClutter(p, random);
    const spectrum = clutter ? clutterSpectrum(p, clutter) : undefined;
    const inBand = (d: number) => {
      if (p.target_band_hz === undefined) return true;
      const offset = (d - Math.floor(D / 2)) * binHz - (clutter!.center_hz ?? 0);
      return Math.abs(offset - Math.round(offset * p.pri_s) / p.pri_s) <= p.target_band_hz;
    };
    const targets: (Target & { bin: number })[] = [];
    const snrs: number[] = [];
    const nearTarget = (d: number, r: number) => targets.some((t) => Math.abs(t.range_bin - r) <= hr && Math.min((t.bin - d + D) % D, (d - t.bin + D) % D) <= hd);
    const place = (wanted: number, what: string, add: (d: number, r: number) => void, allowed = (_d: number) => true) => {
      for (let placed = 0, attempts = 0; placed < wanted; attempts++) {
        if (attempts > 1000 * wanted) throw new Error(`CPI ${cpi}: could place only ${placed} of ${wanted} ${what} in a map of ${D} × ${R} cells: ask for fewer`);
        const r = hr + Math.floor(random.uniform() * (R - 2 * hr));
        const d = Math.floor(random.uniform() * D);
        if (nearTarget(d, r) || !allowed(d)) continue;
        add(d, r);
        placed++;
      }
    };
    place(p.targets_per_cpi, 'targets', (bin, range) => {
      const snr = p.snr_db[Math.floor(random.uniform() * p.snr_db.length)];
      snrs.push(snr);
      const reference = p.snr_reference === 'noise' ? 1 : interferencePower(p, clutter, spectrum, bin, range);
      const perSample = snr + 10 * Math.log10(reference / D); // a Doppler filter gains D on the target
      targets.push({ range_bin: range, bin, doppler_hz: (bin - Math.floor(D / 2)) * binHz, snr_db: perSample, swerling: 1, angle_deg: 0 });
    }, inBand);
    const { data } = simulateCpi({ ...p, clutter, channels: 1, jammers: [], targets }, random, cpi);
    const map = new Float64Array(D * R);
    powerMap(data, D, R, unitEnergyWindow(p.window, D), map);

    const cells: { d: number; r: number; label: number; snr: number | null }[] = targets.map((t, i) => ({ d: t.bin, r: t.range_bin, label: 1, snr: snrs[i] }));
    place(p.negatives_per_cpi, 'target-free cells', (d, r) => cells.push({ d, r, label: 0, snr: null }));
    const size = height * width;
    const patches = new Float32Array(cells.length * size);
    const ratio = normalisedWindows(map, D, R, p, patches, cells.map((c) => c.d * R + c.r));
    const ringCells = size - (2 * p.guard.doppler + 1) * (2 * p.guard.range + 1);
    const rows = cells.length;
    const int = (values: number[]) => makeData({ type: new Int32(), length: rows, nullCount: 0, data: Int32Array.from(values) });
    yield makeBatch(schema, [
      int(cells.map(() => cpi)),
      vectorFromArray(cells.map(() => splitOf(p, cpi)), new Utf8()).data[0],
      tensorData(schema.fields[2], patches, rows),
      int(cells.map((c) => c.label)),
      vectorFromArray(cells.map((c) => c.snr), new Float64()).data[0],
      int(cells.map((c) => c.d)),
      int(cells.map((c) => c.r)),
      makeData({ type: new Float64(), length: rows, nullCount: 0, data: ratio }),
      makeData({ type: new Float64(), length: rows, nullCount: 0, data: new Float64Array(rows).fill(caFactor(p.pfa, ringCells)) }),
    ], rows);
  },
});
