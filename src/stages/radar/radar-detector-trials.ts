// `source.radar-detector-trials`: CA, GO and OS CFAR and a learned detector (radar.detect-learned's
// model) compared at the same measured false-alarm rate in simulated K-distributed clutter, one
// partition per clutter shape ν. For each ν: `validation_cpis` clutter-only maps set every
// detector's threshold for `pfa` (lib/detector-trials.ts), `test_cpis` other clutter-only maps
// measure the Pfa it gives, and `target_cpis` maps per SCR, each with `targets_per_cpi` Swerling I
// targets in the clutter band (and, with `interferer`, a second target inside each one's window;
// a clutter edge comes from the clutter's from_bin), measure Pd. One row per ν, detector and SCR, with 95 %
// Clopper–Pearson intervals. Two more detectors show what the designed thresholds give in this
// clutter: `ca-closed-form` (CA's exponential-noise factor) and `learned-card` (the card's threshold).
import { Field, Float64, Int32, makeData, Schema, Utf8, vectorFromArray } from 'apache-arrow';
import { resolve } from 'node:path';
import { z } from 'zod';
import { makeBatch } from '../../arrow/batch.ts';
import { artifactHash, readArtifactBytes } from '../../models/artifact.ts';
import { clopperPearson } from '../../numeric/binomial-interval.ts';
import { SchemaError } from '../../workflow/errors.ts';
import { defineSource, type Chunk } from '../../workflow/stage.ts';
import { windowMapProblem } from './lib/cell-windows.ts';
import { cfarStatistic, empiricalThreshold, exceedances, trialMap } from './lib/detector-trials.ts';
import { learnedDetector, modelWindow, scoreThreshold } from './lib/learned-detector.ts';
import { cpiRandom, scenarioSchema, type Scenario } from './lib/simulate.ts';

const params = scenarioSchema.omit({ targets: true, channels: true, jammers: true }).extend({
  model: z.string().min(1).describe('the learned detector\'s model folder, relative to the workflow folder'),
  shapes: z.array(z.number().positive()).min(1).describe('clutter shapes ν to evaluate (one partition each); the clutter gives the rest'),
  scr_db: z.array(z.number()).min(1).describe('target power over the mean clutter-plus-noise power of its cell'),
  pfa: z.number().gt(0).lt(1).default(1e-3),
  guard: z.object({ range: z.number().int().min(0), doppler: z.number().int().min(0) }).strict().default({ range: 2, doppler: 1 })
    .describe("guard cells on each side, for the CFARs and the model's window; the training cells fill the model's window"),
  rank: z.number().gt(0).max(1).default(0.75).describe('OS: the order statistic as a fraction of the training cells'),
  validation_cpis: z.number().int().min(1),
  test_cpis: z.number().int().min(1),
  target_cpis: z.number().int().min(1).describe('CPIs per SCR'),
  targets_per_cpi: z.number().int().min(1).default(12),
  target_band_hz: z.number().positive().describe("targets only in Doppler bins within this of the clutter's centre"),
  interferer: z.object({ offset: z.number().int().min(1), scr_db: z.number() }).strict().optional()
    .describe('a second target this many range cells beyond each target (same Doppler), at scr_db: an interfering target in its window'),
  seed: z.number().int().default(0),
}).strict();

type Params = z.output<typeof params>;

const fields = [
  new Field('shape_nu', new Float64(), false), new Field('detector', new Utf8(), false), new Field('scr_db', new Float64(), false),
  new Field('targets', new Int32(), false), new Field('detected', new Int32(), false),
  new Field('pd', new Float64(), false), new Field('pd_low', new Float64(), false), new Field('pd_high', new Float64(), false),
  new Field('cells', new Int32(), false), new Field('false_alarms', new Int32(), false),
  new Field('pfa', new Float64(), false), new Field('pfa_low', new Float64(), false), new Field('pfa_high', new Float64(), false),
  new Field('threshold', new Float64(), false),
];

/** The model (read from `folder`, the absolute model path), its window and the card's threshold. */
function prepare(p: Params, folder: string) {
  if (!p.clutter) throw new SchemaError('source.radar-detector-trials compares detectors in clutter: give clutter');
  const bytes = readArtifactBytes(folder);
  const geometry = modelWindow(bytes.card, p.guard);
  if (typeof geometry === 'string') throw new SchemaError(`${folder}: ${geometry}`);
  const card = scoreThreshold(bytes.card);
  if (typeof card === 'string') throw new SchemaError(`${folder}: ${card}`);
  const problem = windowMapProblem(geometry, p.pulses, p.samples);
  if (problem) throw new SchemaError(problem);
  const reach = geometry.guard.range + geometry.train.range;
  if (p.interferer && p.interferer.offset > reach) throw new SchemaError(`an interferer ${p.interferer.offset} range cells away is outside the ${2 * reach + 1}-cell window: give offset ≤ ${reach}`);
  return { bytes, geometry, cardThreshold: card.value };
}

/** Per detector: the statistic of every cell of a map, or of the cells asked for. */
type Statistics = (map: Float64Array, cells?: Int32Array) => Promise<Record<string, ArrayLike<number>>>;

export const radarDetectorTrialsSource = defineSource({
  name: 'source.radar-detector-trials',
  kind: 'source',
  version: '1',
  description: 'CA, GO, OS CFAR and a learned detector at equal measured Pfa in simulated K clutter: Pd per SCR and Pfa, with Clopper–Pearson intervals.',
  params,
  reads: (p) => [p.model],
  fingerprint: (p, { baseDir }) => artifactHash(resolve(baseDir, p.model)),
  async discover(p, { baseDir }) {
    const folder = resolve(baseDir, p.model);
    prepare(p, folder);
    const partitions = p.shapes.map((shape, index) => ({ key: `trials#nu${shape}`, chunks: (): Chunk[] => [{ index, folder }] }));
    return { schema: new Schema(fields), partitions };
  },
  async *read(chunk, p, { schema }) {
    const { index, folder } = chunk as { index: number; folder: string };
    const { bytes, geometry, cardThreshold } = prepare(p, folder);
    const s: Scenario = { ...p, channels: 1, jammers: [], targets: [], clutter: { ...p.clutter!, shape: p.shapes[index] } };
    const D = s.pulses;
    const R = s.samples;
    const learned = await learnedDetector(bytes, geometry);
    const cfar = (method: 'ca' | 'go' | 'os') => (map: Float64Array) => cfarStatistic(map, D, R, { method, pfa: p.pfa, rank: p.rank, ...geometry });
    const methods = { ca: cfar('ca'), go: cfar('go'), os: cfar('os') };
    const statistics: Statistics = async (map, cells) => {
      const out: Record<string, ArrayLike<number>> = {};
      for (const [name, statistic] of Object.entries(methods)) {
        const all = statistic(map);
        out[name] = cells ? Float64Array.from(cells, (c) => all[c]) : all;
      }
      out.learned = (await learned.score(map, D, R, cells)).scores;
      return out;
    };
    // CPIs of this ν: validation, then test, then the target maps of each SCR in turn.
    let cpi = 0;
    const random = () => cpiRandom(p.seed, index * 1_000_000 + cpi++);
    const collect = async (maps: number) => {
      const parts: Record<string, ArrayLike<number>>[] = [];
      for (let i = 0; i < maps; i++) parts.push(await statistics(trialMap(s, random(), geometry, 0, 0, p.target_band_hz).map));
      return Object.fromEntries(Object.keys(parts[0]).map((name) => {
        const joined = new Float64Array(maps * D * R);
        parts.forEach((part, i) => joined.set(part[name], i * D * R));
        return [name, joined];
      }));
    };
    const validation = await collect(p.validation_cpis);
    const thresholds: Record<string, number> = Object.fromEntries(Object.entries(validation).map(([name, v]) => [name, empiricalThreshold(v, p.pfa)]));
    const test = await collect(p.test_cpis);
    const detectors = [
      ...Object.keys(thresholds).map((name) => ({ name, statistic: name, threshold: thresholds[name] })),
      { name: 'ca-closed-form', statistic: 'ca', threshold: 1 },
      { name: 'learned-card', statistic: 'learned', threshold: cardThreshold },
    ];
    const rows: (string | number)[][] = [];
    const detectedBy = new Map<string, number[]>(detectors.map((d) => [d.name, []]));
    const targets: number[] = [];
    for (const scr of p.scr_db) {
      const hits = new Map<string, number>(detectors.map((d) => [d.name, 0]));
      for (let i = 0; i < p.target_cpis; i++) {
        const trial = trialMap(s, random(), geometry, p.targets_per_cpi, scr, p.target_band_hz, p.interferer && { offset: p.interferer.offset, scrDb: p.interferer.scr_db });
        const values = await statistics(trial.map, trial.targets);
        for (const d of detectors) hits.set(d.name, hits.get(d.name)! + exceedances(values[d.statistic], d.threshold));
      }
      targets.push(p.target_cpis * p.targets_per_cpi);
      for (const d of detectors) detectedBy.get(d.name)!.push(hits.get(d.name)!);
    }
    const cells = test.ca.length;
    for (const d of detectors) {
      const falseAlarms = exceedances(test[d.statistic], d.threshold);
      const pfa = clopperPearson(falseAlarms, cells);
      p.scr_db.forEach((scr, j) => {
        const detected = detectedBy.get(d.name)![j];
        const pd = clopperPearson(detected, targets[j]);
        rows.push([s.clutter!.shape, d.name, scr, targets[j], detected, detected / targets[j], pd.low, pd.high,
          cells, falseAlarms, falseAlarms / cells, pfa.low, pfa.high, d.threshold]);
      });
    }
    const n = rows.length;
    yield makeBatch(schema, fields.map((f, k) => f.name === 'detector'
      ? vectorFromArray(rows.map((r) => r[k] as string), new Utf8()).data[0]
      : makeData({ type: f.type, length: n, nullCount: 0, data: f.type instanceof Int32 ? Int32Array.from(rows, (r) => r[k] as number) : Float64Array.from(rows, (r) => r[k] as number) } as never)), n);
  },
});
