// Weather-radar stages: the 4/3-earth beam geometry against the standard formula, polar-to-Cartesian
// against a closed form, the clutter filter on a synthetic sweep with planted clutter (and, when
// ../shared/data is there, its effect on the real KNMI lowest sweep, printed for the record).
import { Schema, vectorFromArray, type RecordBatch } from 'apache-arrow';
import { describe, expect, test } from 'vitest';
import { odimSchema, odimSource } from '../../../connectors/odim/source.ts';
import { makeBatch } from '../../../src/arrow/batch.ts';
import { tensorData, tensorValues } from '../../../src/arrow/tensor.ts';
import { clutterFilter } from '../../../src/stages/radar/clutter-filter.ts';
import { beamHeight, groundRange, slantRange } from '../../../src/stages/radar/lib/sweep.ts';
import { polarToCartesian } from '../../../src/stages/radar/polar-to-cartesian.ts';
import { sharedData } from '../../helpers.ts';
import { readSource } from '../../connectors/stage-harness.ts';

interface SynthSweep { values: Float32Array; elevation: number; nrays: number; nbins: number; rscale: number; sweep?: number }

/** A batch of source.odim rows holding the given sweeps (all of the schema's shape). */
function sweepsBatch(schema: Schema, sweeps: SynthSweep[]): RecordBatch {
  const n = sweeps.length;
  const field = (name: string) => schema.fields.find((f) => f.name === name)!;
  const rays = sweeps[0].nrays;
  const scalars: Record<string, unknown[]> = {
    _source: sweeps.map(() => 'synthetic'), sweep: sweeps.map((s, i) => s.sweep ?? i + 1), quantity: sweeps.map(() => 'DBZH'),
    elevation_deg: sweeps.map((s) => s.elevation), start_time: sweeps.map(() => null), end_time: sweeps.map(() => null),
    nrays: sweeps.map((s) => s.nrays), nbins: sweeps.map((s) => s.nbins), rscale_m: sweeps.map((s) => s.rscale), rstart_km: sweeps.map(() => 0),
    a1gate: sweeps.map(() => 0), gain: sweeps.map(() => 0.5), offset: sweeps.map(() => -32), nodata: sweeps.map(() => 255), undetect: sweeps.map(() => 0),
    radar_lat: sweeps.map(() => 52), radar_lon: sweeps.map(() => 5), radar_height_m: sweeps.map(() => 0), radar_source: sweeps.map(() => 'test'),
    object: sweeps.map(() => 'PVOL'), version: sweeps.map(() => 'H5rad 2.2'), attributes: sweeps.map(() => '{}'),
  };
  const values = new Float32Array(sweeps.reduce((a, s) => a + s.values.length, 0));
  sweeps.forEach((s, i) => values.set(s.values, i * s.values.length));
  const az = new Float64Array(n * rays);
  for (let i = 0; i < n; i++) for (let r = 0; r < rays; r++) az[i * rays + r] = ((r + 0.5) * 360) / rays;
  return makeBatch(schema, schema.fields.map((f) => {
    if (f.name === 'data') return tensorData(f, values, n);
    if (f.name === 'azimuth_deg') return tensorData(f, az, n);
    return vectorFromArray(scalars[f.name], field(f.name).type).data[0];
  }), n);
}

/** A small seeded generator (mulberry32). */
function random(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function declutter(batches: RecordBatch[], params: Record<string, unknown> = {}): Promise<RecordBatch[]> {
  const p = clutterFilter.params.parse(params);
  const outputSchema = clutterFilter.outputSchema({ params: p, inputs: [batches[0].schema], baseDir: '.' });
  const reducer = clutterFilter.create(p, { inputSchemas: [batches[0].schema], outputSchema, baseDir: '.' });
  const at = { input: 0, partition: { index: 0, key: 'p' } };
  for (const b of batches) await reducer.push(b, at);
  return (await reducer.endPartition!(at)) as RecordBatch[];
}

describe('weather-radar geometry', () => {
  test('beam height is wradlib\'s bin_altitude formula; ground range and slant range invert each other', () => {
    const a = 6_371_000, ke = 4 / 3;
    for (const [r, el] of [[1000, 0.5], [50_000, 0.3], [150_000, 1.1], [240_000, 12], [100_000, 25]]) {
      const R = ke * a;
      const standard = Math.sqrt(r ** 2 + R ** 2 + 2 * r * R * Math.sin((el * Math.PI) / 180)) - R;
      expect(beamHeight(r, el)).toBeCloseTo(standard, 6);
      // The textbook approximation h ≈ r sin θ + r² / (2 ke a) agrees within a few metres at low elevations.
      if (el <= 2) expect(Math.abs(beamHeight(r, el) - (r * Math.sin((el * Math.PI) / 180) + r ** 2 / (2 * R)))).toBeLessThan(5);
      expect(slantRange(groundRange(r, el), el)).toBeCloseTo(r, 4);
    }
  });
});

describe('radar.polar-to-cartesian', () => {
  test('each pixel takes the bin at its ground range and the ray at its azimuth (closed form); NaN past the sweep', () => {
    const rays = 360, bins = 200, rscale = 500, elevation = 2;
    const schema = odimSchema(rays, bins, false);
    const values = new Float32Array(rays * bins);
    for (let r = 0; r < rays; r++) for (let b = 0; b < bins; b++) values[r * bins + b] = r * 1000 + b;
    const batch = sweepsBatch(schema, [{ values, elevation, nrays: rays, nbins: bins, rscale }]);
    const p = polarToCartesian.params.parse({ pixel: 2000, extent: 120_000 });
    const outputSchema = polarToCartesian.outputSchema({ params: p, inputs: [schema], baseDir: '.' });
    const map = polarToCartesian.create(p, { inputSchema: schema, outputSchema, baseDir: '.' }) as (b: RecordBatch) => RecordBatch;
    const out = map(batch);
    const grid = tensorValues(out, 'data');
    const side = 120;
    expect(grid.length).toBe(side * side);
    let checked = 0, outside = 0;
    for (let i = 0; i < side; i++) {
      for (let j = 0; j < side; j++) {
        const x = -120_000 + (j + 0.5) * 2000, y = 120_000 - (i + 0.5) * 2000;
        const s = Math.hypot(x, y);
        // Closed form: θ + φ and the sine rule give the slant range; the bin is floor(r / rscale).
        const phi = s / ((4 / 3) * 6_371_000);
        const r = ((4 / 3) * 6_371_000 * Math.sin(phi)) / Math.cos((elevation * Math.PI) / 180 + phi);
        const az = ((Math.atan2(x, y) * 180) / Math.PI + 360) % 360;
        const v = grid[i * side + j];
        if (r >= bins * rscale) { expect(Number.isNaN(v)).toBe(true); outside++; continue; }
        // Skip pixels within a hair of a ray or bin edge, where rounding may pick either side.
        if (Math.abs(az - Math.round(az)) < 1e-6 || Math.abs(r / rscale - Math.round(r / rscale)) < 1e-6) continue;
        expect(v).toBe(Math.floor(az) * 1000 + Math.floor(r / rscale));
        checked++;
      }
    }
    // Every pixel within 100 km (π·100²/240² of the grid) is checked; the rest are outside.
    expect(checked).toBeGreaterThan(7500);
    expect(outside).toBeGreaterThan(6000);
    expect(out.schema.fields.find((f) => f.name === 'azimuth_deg')).toBeUndefined();
    expect(out.getChild('pixel_m')!.get(0)).toBe(2000);
  });
});

describe('radar.clutter-filter', () => {
  /** Smooth rain over the whole sweep, with high-texture clutter blobs planted. */
  function plantedSweep(seed: number) {
    const rays = 360, bins = 240, next = random(seed);
    const values = new Float32Array(rays * bins);
    const clutter = new Uint8Array(rays * bins);
    for (let r = 0; r < rays; r++) for (let b = 0; b < bins; b++) values[r * bins + b] = 25 + 10 * Math.sin(r / 25) + 6 * Math.cos(b / 18);
    for (let k = 0; k < 12; k++) {
      const r0 = Math.floor(next() * (rays - 8)), b0 = 5 + Math.floor(next() * (bins - 20));
      for (let r = r0; r < r0 + 6; r++) {
        for (let b = b0; b < b0 + 10; b++) {
          // Ground echoes: strong and fluctuating from gate to gate by ±10-25 dB.
          values[r * bins + b] += (b % 2 ? 1 : -1) * (10 + 15 * next()) + 15;
          clutter[r * bins + b] = 1;
        }
      }
    }
    return { rays, bins, values, clutter };
  }

  test('a synthetic sweep: ≥ 90 % of planted clutter cells flagged, ≤ 5 % of rain cells; flagged cells become NaN', async () => {
    const s = plantedSweep(7);
    const schema = odimSchema(s.rays, s.bins, false);
    const [out] = await declutter([sweepsBatch(schema, [{ values: s.values, elevation: 0.5, nrays: s.rays, nbins: s.bins, rscale: 1000 }])]);
    const mask = tensorValues(out, 'clutter');
    const data = tensorValues(out, 'data');
    let hit = 0, clutterCells = 0, falseAlarm = 0, rainCells = 0;
    for (let k = 0; k < mask.length; k++) {
      if (s.clutter[k]) { clutterCells++; hit += mask[k]; } else { rainCells++; falseAlarm += mask[k]; }
      expect(Number.isNaN(data[k])).toBe(mask[k] === 1);
    }
    expect(hit / clutterCells).toBeGreaterThanOrEqual(0.9);
    expect(falseAlarm / rainCells).toBeLessThanOrEqual(0.05);
    expect(out.getChild('clutter_fraction')!.get(0)).toBeCloseTo((hit + falseAlarm) / mask.length, 12);
  });

  test('vertical continuity: with a sweep above, clutter absent above is flagged; texture that reaches the sweep above is kept', async () => {
    const low = plantedSweep(11);
    const smooth = new Float32Array(low.values.length);
    for (let r = 0; r < low.rays; r++) for (let b = 0; b < low.bins; b++) smooth[r * low.bins + b] = 25 + 10 * Math.sin(r / 25);
    const schema = odimSchema(low.rays, low.bins, false);
    const sweep = (values: Float32Array, elevation: number, i: number) => ({ values, elevation, nrays: low.rays, nbins: low.bins, rscale: 1000, sweep: i });
    // The clutter gates stand 15 dB (± 10-25) above the rain on average: a 5 dB drop marks them where the sweep above holds only rain.
    const [cleanAbove] = await declutter([sweepsBatch(schema, [sweep(low.values, 0.5, 1), sweep(smooth, 1.5, 2)])], { vertical_drop: 5 });
    const [sameAbove] = await declutter([sweepsBatch(schema, [sweep(low.values, 0.5, 1), sweep(low.values, 0.50001, 2)])], { vertical_drop: 5 });
    const count = (b: RecordBatch) => { const m = tensorValues(b, 'clutter').subarray(0, low.values.length); let n = 0; for (const v of m) n += v === 1 ? 1 : 0; return n; };
    const planted = low.clutter.reduce((a, b) => a + b, 0);
    // Where the sweep above holds the same echoes, nothing drops: texture alone no longer flags.
    expect(count(sameAbove)).toBeLessThan(0.05 * planted);
    expect(count(cleanAbove)).toBeGreaterThan(0.4 * planted);
  });

  const radar = sharedData('radar');
  test.skipIf(!radar)('the real KNMI lowest sweep: fraction flagged near and far, mean dBZ before and after (printed)', async () => {
    const { partitions } = await readSource(odimSource, { path: 'wradlib_knmi_polar_volume.h5' }, radar!);
    const before = partitions[0].batches;
    const after = await declutter(before);
    const shape = [360, 340];
    const size = shape[0] * shape[1];
    const lines: string[] = [];
    for (const sweepIndex of [0, 1]) {
      const dataIn = tensorValues(before[sweepIndex], 'data').subarray(0, size);
      const dataOut = tensorValues(after[sweepIndex], 'data').subarray(0, size);
      const mask = tensorValues(after[sweepIndex], 'clutter').subarray(0, size);
      const nbins = Number(before[sweepIndex].getChild('nbins')!.get(0));
      const rscale = Number(before[sweepIndex].getChild('rscale_m')!.get(0));
      const stats = (lo: number, hi: number) => {
        let valid = 0, flagged = 0, sumIn = 0, sumOut = 0, kept = 0;
        for (let r = 0; r < 360; r++) {
          for (let b = 0; b < nbins; b++) {
            const range = (b + 0.5) * rscale;
            if (range < lo || range >= hi) continue;
            const k = r * shape[1] + b;
            if (Number.isNaN(dataIn[k])) continue;
            valid++; sumIn += dataIn[k];
            if (mask[k] === 1) flagged++;
            else { kept++; sumOut += dataOut[k]; }
          }
        }
        return { valid, flagged, fraction: flagged / valid, meanBefore: sumIn / valid, meanAfter: sumOut / kept };
      };
      const near = stats(0, 30_000), far = stats(30_000, Infinity), all = stats(0, Infinity);
      const f = (x: number) => x.toFixed(3);
      lines.push(`sweep ${sweepIndex + 1} (elevation ${before[sweepIndex].getChild('elevation_deg')!.get(0)!.toFixed(1)}°): `
        + `flagged ${all.flagged}/${all.valid} echo cells (${f(all.fraction)}); < 30 km ${near.flagged}/${near.valid} (${f(near.fraction)}), `
        + `≥ 30 km ${far.flagged}/${far.valid} (${f(far.fraction)}); mean dBZ of echo cells ${f(all.meanBefore)} → ${f(all.meanAfter)} `
        + `(< 30 km ${f(near.meanBefore)} → ${f(near.meanAfter)})`);
      if (sweepIndex === 0) {
        // Ground clutter crowds near the radar: the near range is flagged more than the far.
        expect(near.fraction).toBeGreaterThan(far.fraction);
        expect(all.fraction).toBeGreaterThan(0);
        expect(all.fraction).toBeLessThan(0.5);
      }
    }
    console.log(`radar.clutter-filter on ${partitions[0].key} (defaults):\n  ${lines.join('\n  ')}`);
  });
});
