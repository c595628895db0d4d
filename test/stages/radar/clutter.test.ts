// The simulator's K-distributed clutter against closed forms: the intensity's exceedance
// probability (the K distribution: P(I > x) = 2/Γ(ν) (νx)^(ν/2) K_ν(2√(νx)) for mean 1, values
// from SciPy's kv, run offline), the Doppler spectrum per map bin (CNR × the normalised Gaussian),
// the pulse-to-pulse correlation of a Gaussian spectrum (e^(-2π²σ²T²) e^(2πi fc T)), and clutter
// edges; then the per-cell CFAR thresholds the detector trials scale, against radar.cfar's detections.
import { describe, expect, test } from 'vitest';
import { clopperPearson } from '../../../src/numeric/binomial-interval.ts';
import { powerMap } from '../../../src/stages/radar/doppler.ts';
import { cfarDetect, cfarThresholds } from '../../../src/stages/radar/lib/cfar-detect.ts';
import { cpiRandom, scenarioSchema, simulateCpi } from '../../../src/stages/radar/lib/simulate.ts';
import { empiricalThreshold, trialMap } from '../../../src/stages/radar/lib/detector-trials.ts';
import { unitEnergyWindow } from '../../../src/stages/radar/lib/windows.ts';

const radar = { sample_rate_hz: 1e6, pri_s: 1e-3, center_frequency_hz: 1e9 };
const scenario = (clutter: Record<string, number>, pulses = 16, samples = 4096) =>
  scenarioSchema.parse({ ...radar, pulses, samples, clutter });

describe('K-distributed clutter', () => {
  test('intensity exceedances follow the K distribution for ν = 0.3 and ν = 3 (99.999 % Clopper–Pearson)', () => {
    const scipy: Record<number, [number, number][]> = {
      0.3: [[0.1, 0.5263662871518726], [1, 0.2117102656163502], [3, 0.08674051730144383], [10, 0.0162793189760818]],
      3: [[0.1, 0.8677150852368785], [1, 0.3233309710800436], [3, 0.06674124858950803], [10, 0.0015916566573884628]],
    };
    const cnr = 1e4; // 40 dB: the noise shifts I/CNR by 1e-4
    for (const [shape, points] of Object.entries(scipy)) {
      const s = scenario({ cnr_db: 40, shape: Number(shape), spread_hz: 30 }, 2);
      const intensities: number[] = [];
      for (let cpi = 0; cpi < 16; cpi++) {
        const { data } = simulateCpi(s, cpiRandom(5, cpi), cpi);
        for (let n = 0; n < 4096; n++) intensities.push((data[2 * n] ** 2 + data[2 * n + 1] ** 2) / cnr); // pulse 0: one per texture
      }
      for (const [x, p] of points) {
        const k = intensities.filter((i) => i > x).length;
        const { low, high } = clopperPearson(k, intensities.length, 1e-5);
        expect(p, `ν ${shape}, P(I > ${x})`).toBeGreaterThan(low);
        expect(p, `ν ${shape}, P(I > ${x})`).toBeLessThan(high);
      }
    }
  });

  test('mean map power per Doppler bin is 1 + CNR × the normalised Gaussian spectrum around its centre', () => {
    const D = 16;
    const clutter = { cnr_db: 20, shape: 3, spread_hz: 100, center_hz: 125 };
    const s = scenario(clutter, D, 2048);
    const mean = new Float64Array(D);
    const cpis = 8;
    for (let cpi = 0; cpi < cpis; cpi++) {
      const map = new Float64Array(D * 2048);
      powerMap(simulateCpi(s, cpiRandom(6, cpi), cpi).data, D, 2048, unitEnergyWindow('none', D), map);
      for (let d = 0; d < D; d++) for (let r = 0; r < 2048; r++) mean[d] += map[d * 2048 + r] / (cpis * 2048);
    }
    // Closed form: row d is frequency (d - 8) · 62.5 Hz, aliased to the nearest copy of the centre.
    const gauss = Array.from({ length: D }, (_, d) => {
      let f = (d - D / 2) * 62.5 - clutter.center_hz;
      f -= 1000 * Math.round(f / 1000);
      return Math.exp(-(f * f) / (2 * clutter.spread_hz ** 2));
    });
    const total = gauss.reduce((a, b) => a + b, 0);
    // A bin's intensity over 16,384 cells: relative std √((2(1 + 1/ν) - 1) / 16384) ≈ 1.0 %; 5σ.
    for (let d = 0; d < D; d++) {
      const expected = 1 + 100 * (D * gauss[d]) / total;
      expect(Math.abs(mean[d] / expected - 1), `Doppler row ${d}`).toBeLessThan(0.05);
    }
    expect(mean.indexOf(Math.max(...mean))).toBe(10); // 125 Hz = 2 bins above 0 Hz (row 8)
  });

  test('pulse-to-pulse correlation is e^(-2π²σ²T²) e^(2πi fc T), and clutter stays inside its edges', () => {
    const sigma = 50;
    const fc = 80;
    const s = scenario({ cnr_db: 30, shape: 1, spread_hz: sigma, center_hz: fc, from_bin: 1000, to_bin: 3000 }, 64, 4096);
    const { data } = simulateCpi(s, cpiRandom(7, 0), 0);
    const at = (p: number, n: number) => 2 * (p * 4096 + n);
    let re = 0;
    let im = 0;
    let power = 0;
    let outside = 0;
    for (let n = 0; n < 4096; n++) {
      for (let p = 0; p < 64; p++) {
        const i = at(p, n);
        const intensity = data[i] ** 2 + data[i + 1] ** 2;
        if (n < 1000 || n >= 3000) {
          outside += intensity / (64 * 2096);
          continue;
        }
        power += intensity;
        if (p === 63) continue;
        const j = at(p + 1, n);
        // x[p+1] · conj(x[p])
        re += data[j] * data[i] + data[j + 1] * data[i + 1];
        im += data[j + 1] * data[i] - data[j] * data[i + 1];
      }
    }
    const lag0 = power / (64 * 2000);
    const lag1 = { re: re / (63 * 2000), im: im / (63 * 2000) };
    const cnr = 1000;
    // The noise adds 1 at lag 0 only; the clutter's texture has mean 1.
    const rho = Math.exp(-2 * Math.PI ** 2 * sigma ** 2 * 1e-6);
    const magnitude = Math.hypot(lag1.re, lag1.im) / (lag0 - 1);
    expect(Math.abs(magnitude - rho)).toBeLessThan(0.005);
    expect(Math.abs(Math.atan2(lag1.im, lag1.re) - 2 * Math.PI * fc * 1e-3)).toBeLessThan(0.01);
    expect(Math.abs(lag0 / (1 + cnr) - 1)).toBeLessThan(0.1); // 2000 textures of ν = 1: relative std 2.2 %
    expect(Math.abs(outside - 1)).toBeLessThan(0.01); // noise alone beyond the edges
  });
});

describe('detector trials', () => {
  test('per-cell CFAR thresholds are the thresholds radar.cfar detects with, for CA, GO and OS', () => {
    const s = scenario({ cnr_db: 20, shape: 0.5, spread_hz: 100 }, 16, 256);
    const geometry = { guard: { range: 2, doppler: 1 }, train: { range: 8, doppler: 3 } };
    const { map } = trialMap(s, cpiRandom(8, 0), geometry, 4, 20, 150);
    for (const method of ['ca', 'go', 'os'] as const) {
      const o = { method, pfa: 1e-2, rank: 0.75, ...geometry };
      const thresholds = cfarThresholds(map, 16, 256, o);
      const found = cfarDetect(map, 16, 256, o);
      const mine = [...map.keys()].filter((c) => map[c] > thresholds[c]);
      expect(mine).toEqual([...found.doppler].map((d, i) => d * 256 + found.range[i]).sort((a, b) => a - b));
      found.threshold.forEach((t, i) => expect(thresholds[found.doppler[i] * 256 + found.range[i]]).toBe(t));
    }
  });

  test('trial targets and their interferers sit in the clutter band at their SCR over the cell\'s clutter plus noise; the empirical threshold keeps pfa of the values above it', () => {
    const s = scenario({ cnr_db: 20, shape: 3, spread_hz: 100 }, 16, 512);
    const geometry = { guard: { range: 2, doppler: 1 }, train: { range: 8, doppler: 3 } };
    let ratio = 0;
    let interfererRatio = 0;
    let count = 0;
    let total = 0;
    for (let k = 0; k < 16; k++) total += Math.exp(-(((k - 8) * 62.5) ** 2) / (2 * 100 ** 2));
    const interference = (d: number) => 1 + 100 * 16 * Math.exp(-(((d - 8) * 62.5) ** 2) / (2 * 100 ** 2)) / total;
    for (let cpi = 0; cpi < 60; cpi++) {
      // Targets at 30 dB, each with an interferer at 20 dB five range cells beyond it.
      const trial = trialMap(s, cpiRandom(9, cpi), geometry, 12, 30, 150, { offset: 5, scrDb: 20 });
      for (const cell of trial.targets) {
        const d = Math.floor(cell / 512);
        expect(Math.abs(d - 8)).toBeLessThanOrEqual(2); // within 150 Hz of 0 Hz: rows 6–10
        // Swerling I: the cell's power is SCR × its interference on average.
        ratio += trial.map[cell] / (1000 * interference(d));
        interfererRatio += trial.map[cell + 5] / (100 * interference(d));
        count++;
      }
    }
    // Exponential powers (mean 1) plus the clutter: 720 targets, std of the mean ≈ 3.7 %.
    expect(Math.abs(ratio / count - 1)).toBeLessThan(0.15);
    expect(Math.abs(interfererRatio / count - 1)).toBeLessThan(0.15);
    const values = Float64Array.from({ length: 10000 }, (_, i) => i);
    const t = empiricalThreshold(values, 1e-2);
    expect(values.filter((v) => v > t).length).toBe(100);
  });
});
