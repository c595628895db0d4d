// Monte Carlo trials that compare detectors at the same measured false-alarm rate. Every detector
// turns each cell of a range-Doppler map into a statistic (CFAR: the cell's power over its
// closed-form threshold for the nominal pfa; the learned detector: its score), and detects where
// the statistic exceeds a threshold. The threshold is set empirically on clutter-only validation
// maps (the statistic that `pfa` of their cells exceed), then the false-alarm rate is measured on
// other clutter-only maps, and the detection rate on maps with targets, all from fresh CPIs.
// Closed-form CFAR factors assume exponential noise; in spiky K clutter they give another Pfa,
// which is why every detector is recalibrated here before Pd is compared.
import type { Random } from '../../../numeric/random.ts';
import { powerMap } from '../doppler.ts';
import { cfarThresholds, type CfarOptions } from './cfar-detect.ts';
import type { WindowGeometry } from './cell-windows.ts';
import { unitEnergyWindow } from './windows.ts';
import { clutterSpectrum, interferencePower, simulateCpi, type Scenario, type Target } from './simulate.ts';

export interface TrialMap {
  /** [doppler, range] power of an unwindowed Doppler FFT. */
  map: Float64Array;
  /** The cells (d · R + r) holding a target. */
  targets: Int32Array;
}

/** A second target `offset` range cells beyond each target, in its Doppler bin, at `scrDb`: inside the target's CFAR window. */
export interface Interferer {
  offset: number;
  scrDb: number;
}

/**
 * One CPI's map: the scenario's clutter and noise and `count` Swerling I targets at `scrDb` over
 * the mean clutter-plus-noise power of their cell, in Doppler rows within `bandHz` of the clutter's
 * centre, each at least two windows apart in range, so no window holds two targets but for an
 * `interferer` placed beside each (not counted among the targets).
 */
export function trialMap(s: Scenario, random: Random, window: WindowGeometry, count: number, scrDb: number, bandHz: number, interferer?: Interferer): TrialMap {
  const D = s.pulses;
  const R = s.samples;
  const binHz = 1 / s.pri_s / D;
  const hr = window.guard.range + window.train.range;
  const centre = s.clutter?.center_hz ?? 0;
  const rows = Array.from({ length: D }, (_, d) => d).filter((d) => {
    const offset = (d - Math.floor(D / 2)) * binHz - centre;
    return Math.abs(offset - Math.round(offset * s.pri_s) / s.pri_s) <= bandHz;
  });
  if (count > 0 && rows.length === 0) throw new RangeError(`no Doppler bin lies within ${bandHz} Hz of the clutter's centre`);
  const spectrum = s.clutter ? clutterSpectrum(s, s.clutter) : undefined;
  const targets: (Target & { bin: number })[] = [];
  for (let attempts = 0; targets.length < count; attempts++) {
    if (attempts > 1000 * count) throw new RangeError(`could place only ${targets.length} of ${count} targets a window apart in ${R} range cells: ask for fewer`);
    const r = hr + Math.floor(random.uniform() * (R - 2 * hr));
    const d = rows[Math.floor(random.uniform() * rows.length)];
    if (targets.some((t) => Math.abs(t.range_bin - r) <= 2 * hr)) continue;
    const perSample = (scr: number, range: number) => scr + 10 * Math.log10(interferencePower(s, s.clutter, spectrum, d, range) / D);
    targets.push({ range_bin: r, bin: d, doppler_hz: (d - Math.floor(D / 2)) * binHz, snr_db: perSample(scrDb, r), swerling: 1, angle_deg: 0 });
  }
  const interferers = !interferer ? [] : targets.map((t) => ({ ...t, range_bin: t.range_bin + interferer.offset,
    snr_db: interferer.scrDb + 10 * Math.log10(interferencePower(s, s.clutter, spectrum, t.bin, t.range_bin + interferer.offset) / D) }));
  const { data } = simulateCpi({ ...s, channels: 1, jammers: [], targets: [...targets, ...interferers] }, random);
  const map = new Float64Array(D * R);
  powerMap(data, D, R, unitEnergyWindow('none', D), map);
  return { map, targets: Int32Array.from(targets, (t) => t.bin * R + t.range_bin) };
}

/** Each cell's power over its CFAR threshold for `o.pfa` (> 1: the closed-form detector fires). */
export function cfarStatistic(map: Float64Array, D: number, R: number, o: CfarOptions): Float64Array {
  const thresholds = cfarThresholds(map, D, R, o);
  return Float64Array.from(map, (power, cell) => power / thresholds[cell]);
}

/** The threshold `pfa` of the values exceed (as model.train sets a classifier's): the ⌊pfa · n⌋-th largest. */
export function empiricalThreshold(values: Float64Array, pfa: number): number {
  if (values.length * pfa < 10) throw new RangeError(`a threshold for pfa ${pfa} needs at least ${Math.ceil(10 / pfa)} cells, not ${values.length}`);
  const sorted = Float64Array.from(values).sort();
  return sorted[sorted.length - 1 - Math.floor(pfa * sorted.length)];
}

/** How many values exceed `threshold`. */
export function exceedances(values: ArrayLike<number>, threshold: number): number {
  let n = 0;
  for (let i = 0; i < values.length; i++) if (values[i] > threshold) n++;
  return n;
}
