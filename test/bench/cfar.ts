// CA-CFAR speed: quiver's detector against the same 2-D CA-CFAR in NumPy/SciPy (Debian's
// python3-scipy, here only), on the same 1024 × 4096 range-Doppler map (a simulated CPI of 1024
// pulses × 4096 range samples with 200 targets, Doppler-processed as radar.doppler does):
// Doppler wraps, range edges are cut and the factor recomputed per range cell, in both. Best of 5
// runs each, detector only (not loading the map). The detections must agree exactly.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cfarDetect, type CfarOptions } from '../../src/stages/radar/lib/cfar-detect.ts';
import { powerMap } from '../../src/stages/radar/doppler.ts';
import { cpiRandom, scenarioSchema, simulateCpi } from '../../src/stages/radar/lib/simulate.ts';
import { unitEnergyWindow } from '../../src/stages/radar/lib/windows.ts';
import { benchDir, cleanup, report } from './common.ts';

const D = 1024;
const R = 4096;
const o: CfarOptions = { method: 'ca', pfa: 1e-6, guard: { range: 2, doppler: 2 }, train: { range: 12, doppler: 6 }, rank: 0.75 };
const targets = Array.from({ length: 200 }, (_, i) => ({ range_bin: 20 * i + 7, doppler_hz: ((i * 37) % D) - D / 2, snr_db: 0, swerling: 1 }));
const scenario = scenarioSchema.parse({ pulses: D, samples: R, sample_rate_hz: 1e6, pri_s: 1e-3, center_frequency_hz: 1e9, targets });
const map = new Float32Array(D * R);
powerMap(simulateCpi(scenario, cpiRandom(42, 0)).data, D, R, unitEnergyWindow('none', D), map);

const dir = benchDir();
try {
  const file = join(dir, 'map.f32');
  writeFileSync(file, map);
  let best = Infinity;
  let detections = 0;
  for (let run = 0; run < 5; run++) {
    const started = performance.now();
    detections = cfarDetect(map, D, R, o).power.length;
    best = Math.min(best, (performance.now() - started) / 1000);
  }
  const python = `
import time, numpy as np
from scipy.ndimage import uniform_filter
x = np.fromfile(${JSON.stringify(file)}, dtype='<f4').reshape(${D}, ${R}).astype(np.float64)
gd, td, gr, tr, pfa = ${o.guard.doppler}, ${o.train.doppler}, ${o.guard.range}, ${o.train.range}, ${o.pfa}
def box_sum(a, hd, hr):
    size = (2 * hd + 1, 2 * hr + 1)
    return uniform_filter(a, size=size, mode=['wrap', 'constant'], cval=0.0) * (size[0] * size[1])
def cfar(x):
    ones = np.ones_like(x[:1])  # counts depend on range only
    n = np.rint(box_sum(np.repeat(ones, 2 * (gd + td) + 1, 0), gd + td, gr + tr) - box_sum(np.repeat(ones, 2 * (gd + td) + 1, 0), gd, gr))[gd + td]
    s = box_sum(x, gd + td, gr + tr) - box_sum(x, gd, gr)
    alpha = n * (pfa ** (-1.0 / n) - 1)
    return np.count_nonzero(x > alpha * s / n)
best, count = 1e9, 0
for _ in range(5):
    t = time.perf_counter(); count = cfar(x); best = min(best, time.perf_counter() - t)
print(best, count)
`;
  const [pySeconds, pyDetections] = execFileSync('python3', ['-c', python], { encoding: 'utf8' }).trim().split(' ').map(Number);
  const cells = D * R;
  if (pyDetections !== detections) throw new Error(`detections differ: quiver ${detections}, NumPy/SciPy ${pyDetections}`);
  report('cfar', {
    cells, quiverCellsPerSecond: Math.round(cells / best), numpyCellsPerSecond: Math.round(cells / pySeconds),
    speedup: Number((pySeconds / best).toFixed(2)), detections,
  }, `CA-CFAR on ${D} × ${R}: quiver ${(cells / best / 1e6).toFixed(1)} M cells/s (${best.toFixed(3)} s), ` +
    `NumPy/SciPy ${(cells / pySeconds / 1e6).toFixed(1)} M cells/s (${pySeconds.toFixed(3)} s): quiver ${(pySeconds / best).toFixed(2)}× ; ${detections} detections in both`);
} finally {
  cleanup(dir);
}
