// radar.cfar: the window arithmetic against a cell-by-cell second implementation, and the detector
// against theory on simulated data pushed through the real stages (source.radar-sim → radar.doppler
// → radar.cfar): false-alarm rates (CA, GO, SO, OS) inside the 99.9 % binomial interval over ≥ 10^6 noise cells,
// Swerling I detection probability, and OS versus CA next to a strong interfering target.
import { describe, expect, test } from 'vitest';
import { cpiSchema } from '../../../connectors/sigmf/source.ts';
import { caFactor, goFactor, osFactor, osPfa, soFactor } from '../../../src/stages/radar/lib/cfar-factor.ts';
import { cfarDetect, type CfarOptions } from '../../../src/stages/radar/lib/cfar-detect.ts';
import { cfar, clusters } from '../../../src/stages/radar/cfar.ts';
import { doppler } from '../../../src/stages/radar/doppler.ts';
import { Random } from '../../../src/numeric/random.ts';
import { column, runSteps, simulatedCpis } from './pipeline.ts';

/** The same detector written the slow, obvious way: list every training cell of every cell. */
function bruteForce(map: Float64Array, D: number, R: number, o: CfarOptions) {
  const found: { d: number; r: number; threshold: number }[] = [];
  const hd = o.guard.doppler + o.train.doppler;
  const hr = o.guard.range + o.train.range;
  for (let d = 0; d < D; d++) {
    for (let r = 0; r < R; r++) {
      const low: number[] = [];
      const high: number[] = [];
      for (let dd = -hd; dd <= hd; dd++) {
        for (let dr = -hr; dr <= hr; dr++) {
          if (r + dr < 0 || r + dr >= R) continue;
          if (Math.abs(dd) <= o.guard.doppler && Math.abs(dr) <= o.guard.range) continue;
          const value = map[(((d + dd) % D) + D) % D * R + r + dr];
          (dr < 0 || (dr === 0 && dd < 0) ? low : high).push(value);
        }
      }
      const all = [...low, ...high];
      const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
      let threshold: number;
      if (o.method === 'ca') threshold = caFactor(o.pfa, all.length) * mean(all);
      else if (o.method === 'os') {
        const k = Math.max(1, Math.round(o.rank * all.length));
        threshold = osFactor(o.pfa, all.length, k) * all.sort((a, b) => a - b)[k - 1];
      } else if (low.length === 0 || high.length === 0) threshold = caFactor(o.pfa, all.length) * mean(all);
      else if (o.method === 'go') threshold = goFactor(o.pfa, low.length, high.length) * Math.max(mean(low), mean(high));
      else threshold = soFactor(o.pfa, low.length, high.length) * Math.min(mean(low), mean(high));
      if (map[d * R + r] > threshold) found.push({ d, r, threshold });
    }
  }
  return found;
}

/** The central 99.9 % interval of Binomial(n, p): counts with at most 0.05 % probability below and above. */
function binomialInterval(n: number, p: number, tail = 0.0005) {
  const mode = Math.floor((n + 1) * p);
  const logPmf = (k: number) => logFactorial(n) - logFactorial(k) - logFactorial(n - k) + k * Math.log(p) + (n - k) * Math.log1p(-p);
  let lo = mode;
  let below = 1;
  // Walk outwards from the mode summing the pmf until each tail holds `tail`.
  let sum = 0;
  for (let k = 0; k <= mode; k++) sum += Math.exp(logPmf(k));
  below = sum;
  while (below - Math.exp(logPmf(lo)) > tail) below -= Math.exp(logPmf(lo--));
  let hi = mode;
  let above = 1 - sum + Math.exp(logPmf(mode));
  while (above - Math.exp(logPmf(hi)) > tail) above -= Math.exp(logPmf(hi++));
  return [lo, hi];
}

const logFactorials = [0];
function logFactorial(n: number): number {
  for (let i = logFactorials.length; i <= n; i++) logFactorials[i] = logFactorials[i - 1] + Math.log(i);
  return logFactorials[n];
}

/** One channel, no chirp: a target's map power is pulses × its per-pulse SNR (window none, on a Doppler bin). */
const radar = { channels: 1, sample_rate_hz: 1e6, pri_s: 1e-3, center_frequency_hz: 1e9 };
const window = { guard: { range: 2, doppler: 1 }, train: { range: 8, doppler: 3 } };
/** Training cells in the middle of the map: (2·4+1)·(2·10+1) - (2·1+1)·(2·2+1). */
const trainingCells = 9 * 21 - 3 * 5;

describe('radar.cfar', () => {
  test.each(['ca', 'go', 'so', 'os'] as const)('%s: the same detections and thresholds as a cell-by-cell implementation, edges and wrap included', (method) => {
    const random = new Random(11);
    const D = 12;
    const R = 40;
    const map = Float64Array.from({ length: D * R }, () => random.exponential() * (random.uniform() < 0.05 ? 30 : 1));
    const o: CfarOptions = { method, pfa: 0.05, guard: { range: 2, doppler: 1 }, train: { range: 4, doppler: 2 }, rank: 0.75 };
    const expected = bruteForce(map, D, R, o);
    const got = cfarDetect(map, D, R, o);
    expect(got.power.length).toBe(expected.length);
    expect(expected.length).toBeGreaterThan(10);
    expected.forEach((e, i) => {
      expect([got.doppler[i], got.range[i]]).toEqual([e.d, e.r]);
      expect(got.threshold[i] / e.threshold).toBeCloseTo(1, 10);
    });
  });

  test.each(['ca', 'go', 'so', 'os'] as const)('%s: false alarms over 2^20 noise cells lie in the central 99.9-percent binomial interval for pfa 1e-3', async (method) => {
    const { schema, batches } = await simulatedCpis({ ...radar, pulses: 64, samples: 1024 }, 16, 1);
    const found = await runSteps(schema, batches, [[doppler, { window: 'none' }], [cfar, { method, pfa: 1e-3, ...window }]]);
    const cells = 16 * 64 * 1024;
    const alarms = column(found, 'range_bin').length;
    const [lo, hi] = binomialInterval(cells, 1e-3);
    expect(alarms, `${alarms} false alarms, interval [${lo}, ${hi}]`).toBeGreaterThanOrEqual(lo);
    expect(alarms).toBeLessThanOrEqual(hi);
  });

  test('near the range edges, where the window is cut and the factor recomputed, the false-alarm rate holds too', async () => {
    const { schema, batches } = await simulatedCpis({ ...radar, pulses: 16, samples: 40 }, 400, 2);
    const found = await runSteps(schema, batches, [[doppler, { window: 'none' }], [cfar, { method: 'ca', pfa: 0.01, ...window }]]);
    const edge = column(found, 'range_bin').filter((r) => r < 10 || r >= 30).length;
    const [lo, hi] = binomialInterval(400 * 16 * 20, 0.01);
    expect(edge, `${edge} false alarms in the edge cells, interval [${lo}, ${hi}]`).toBeGreaterThanOrEqual(lo);
    expect(edge).toBeLessThanOrEqual(hi);
  });

  test('Swerling I targets: measured Pd within ±0.03 of (1 + T/(1+SNR))^-N, 4000 targets', async () => {
    const pulses = 16;
    const mapSnrDb = 13;
    const rangeBins = Array.from({ length: 10 }, (_, i) => 20 + 48 * i);
    const targets = rangeBins.map((range_bin) => ({ range_bin, doppler_hz: 125, snr_db: mapSnrDb - 10 * Math.log10(pulses), swerling: 1 }));
    const { schema, batches } = await simulatedCpis({ ...radar, pulses, samples: 512, targets }, 400, 3);
    const pfa = 1e-3;
    const found = await runSteps(schema, batches, [[doppler, { window: 'none' }], [cfar, { method: 'ca', pfa, ...window }]]);
    const ranges = column(found, 'range_bin');
    const dopplers = column(found, 'doppler_hz');
    const hits = ranges.filter((r, i) => rangeBins.includes(r) && dopplers[i] === 125).length;
    const measured = hits / (400 * rangeBins.length);
    const snr = Math.pow(10, mapSnrDb / 10);
    const t = caFactor(pfa, trainingCells) / trainingCells; // the factor on the training-cell sum
    const theory = Math.pow(1 + t / (1 + snr), -trainingCells);
    expect(Math.abs(measured - theory), `Pd measured ${measured}, theory ${theory}`).toBeLessThan(0.03);
  });

  // The same seed with and without the interferers: the same noise and the same target amplitudes,
  // so the two Pd figures differ by the interferers' effect alone.
  test('a strong target in the training window: OS keeps its Pd, CA loses it', async () => {
    const pulses = 16;
    const shift = -10 * Math.log10(pulses);
    const rangeBins = [40, 140, 240, 340, 440];
    const primaries = rangeBins.map((range_bin) => ({ range_bin, doppler_hz: 125, snr_db: 15 + shift, swerling: 1 }));
    const interferers = rangeBins.map((r) => ({ range_bin: r + 5, doppler_hz: 125, snr_db: 30 + shift, swerling: 0 }));
    const cpis = 200;
    const pd = async (method: 'ca' | 'os', withInterferers: boolean) => {
      const { schema, batches } = await simulatedCpis({ ...radar, pulses, samples: 512, targets: withInterferers ? [...primaries, ...interferers] : primaries }, cpis, 4);
      const found = await runSteps(schema, batches, [[doppler, { window: 'none' }], [cfar, { method, pfa: 1e-4, ...window }]]);
      const ranges = column(found, 'range_bin');
      return ranges.filter((r) => rangeBins.includes(r)).length / (cpis * rangeBins.length);
    };
    const os = { clear: await pd('os', false), interfered: await pd('os', true) };
    const ca = { clear: await pd('ca', false), interfered: await pd('ca', true) };
    // OS theory for Swerling I: the Pfa formula with T / (1 + SNR).
    const k = Math.round(0.75 * trainingCells);
    const osTheory = osPfa(osFactor(1e-4, trainingCells, k) / (1 + Math.pow(10, 1.5)), trainingCells, k);
    expect(Math.abs(os.clear - osTheory), `OS Pd ${os.clear}, theory ${osTheory}`).toBeLessThan(0.04);
    expect(Math.abs(os.interfered - os.clear), `OS Pd ${os.clear} → ${os.interfered}`).toBeLessThan(0.04);
    expect(ca.clear - ca.interfered, `CA Pd ${ca.clear} → ${ca.interfered}`).toBeGreaterThan(0.25);
  });

  test('clustering merges touching detections, across the Doppler wrap, keeping the strongest cell', () => {
    const cells = [[0, 10, 5], [7, 10, 9], [7, 11, 4], [3, 20, 2], [3, 22, 3]]; // (doppler, range, power), 8 Doppler bins
    const found = {
      doppler: Int32Array.from(cells, (c) => c[0]), range: Int32Array.from(cells, (c) => c[1]),
      power: Float64Array.from(cells, (c) => c[2]), threshold: new Float64Array(5).fill(1), estimate: new Float64Array(5).fill(1),
    };
    const merged = clusters(found, 8);
    expect([...merged.doppler]).toEqual([7, 3, 3]);
    expect([...merged.range]).toEqual([10, 20, 22]);
    expect([...merged.cells]).toEqual([3, 1, 1]);
  });

  test('a window wider than the Doppler axis is refused when the workflow is checked', () => {
    const params = cfar.params.parse({ guard: 2, train: { range: 4, doppler: 8 } });
    const input = { params, baseDir: '.', inputs: [] as never[] };
    expect(() => cfar.outputSchema({ ...input, inputs: [mapSchema(16, 64)] })).toThrow('the CFAR window spans 21 Doppler bins, more than the map\'s 16');
  });
});

function mapSchema(dopplerBins: number, rangeBins: number) {
  // The schema radar.doppler gives for a one-channel CPI of this size.
  return doppler.outputSchema({ params: doppler.params.parse({}), baseDir: '.', inputs: [cpiSchemaOf(dopplerBins, rangeBins)] });
}

function cpiSchemaOf(pulses: number, samples: number) {
  return cpiSchema({ datatype: 'cf32_le', channels: 1, pulses, samples, sampleRate: 1e6, frequency: 1e9, pri: 1e-3, pulseWidth: null, chirpBandwidth: null, gateStart: null, elementSpacing: null });
}
