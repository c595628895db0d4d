// The radar reference workflows: cfar.yaml on the bundled simulated CPIs (checked against the
// simulator's truth table), the real Mountaintop CPI (raw: the chirp that compresses it) and
// mountaintop.yaml's non-adaptive baseline on it, mountaintop-beamformer.yaml on the stap3001v1
// jammer CPIs, and `quiver simulate` reproducing the bundled data byte for byte.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { sigmfSource } from '../../connectors/sigmf/source.ts';
import { tensorValues } from '../../src/arrow/tensor.ts';
import { LocalExecutor } from '../../src/engine/executors/local.ts';
import { runWorkflow } from '../../src/index.ts';
import { caFactor } from '../../src/stages/radar/lib/cfar-factor.ts';
import { lfmChirp } from '../../src/stages/radar/lib/chirp.ts';
import { cpiRandom, scenarioSchema, simulateCpi } from '../../src/stages/radar/lib/simulate.ts';
import { pulseCompress } from '../../src/stages/radar/pulse-compress.ts';
import { readSource } from '../connectors/stage-harness.ts';
import { runSteps } from '../stages/radar/pipeline.ts';
import { duckdb, repoRoot, scratchDir, sharedData } from '../helpers.ts';
import { parse } from 'yaml';

const out = scratchDir();
const executor = new LocalExecutor({ workers: 2 });
afterAll(() => executor.close());
const radarData = join(repoRoot, 'data', 'radar');

describe('reference workflows: radar', () => {
  test('cfar.yaml finds every strong simulated target in every CPI, at its range and Doppler, and little else', async () => {
    const summary = await runWorkflow(join(repoRoot, 'workflows', 'radar', 'cfar.yaml'), { out: join(out, 'cfar'), executor, allowPaths: [join(repoRoot, 'data')] });
    expect(summary.status, summary.error).toBe('ok');
    const numbers = (rows: unknown[][]) => rows.map((r) => r.map(Number));
    const detections = numbers(await duckdb(`SELECT cpi, range_bin, doppler_hz FROM '${join(out, 'cfar', 'detections.parquet')}' ORDER BY cpi, range_bin`));
    const truth = numbers(await duckdb(`SELECT cpi, range_bin, doppler_hz, snr_db FROM read_csv('${join(radarData, 'sim-demo.truth.csv')}')`));
    const same = (a: number[], b: number[]) => a[0] === b[0] && a[1] === b[1] && a[2] === b[2];
    const isTarget = (d: number[]) => truth.some((t) => same(t, d));
    // Targets of -10 dB and -5 dB per sample (24 and 29 dB after processing): found every time.
    for (const t of truth.filter((t) => t[3] >= -10)) expect(detections.some((d) => same(d, t)), `target ${t}`).toBe(true);
    // At Pfa 1e-6 over 8 × 32 × 512 cells, 0.13 false alarms are expected.
    expect(detections.filter((d) => !isTarget(d)).length).toBeLessThanOrEqual(2);
    const [found] = await duckdb(`SELECT count(*), count(doppler_hz_detected) FROM read_csv('${join(out, 'cfar', 'targets-found.csv')}')`);
    expect(Number(found[0])).toBe(32);
    expect(Number(found[1])).toBe(detections.filter(isTarget).length);
  });

  test('detector-eval.yaml: CA-CFAR meets theory, and the learned detector holds its Pfa and comes close to CA', async () => {
    const summary = await runWorkflow(join(repoRoot, 'workflows', 'radar', 'detector-eval.yaml'), { out: join(out, 'eval'), executor, allowPaths: [join(repoRoot, 'data')] });
    expect(summary.status, summary.error).toBe('ok');
    // The run record names the backend the model ran on (no native TensorFlow installs here).
    expect(JSON.parse(readFileSync(summary.manifest, 'utf8')).modelBackend).toBe('wasm');
    const rows = (await duckdb(`SELECT label, snr, cells, cnn_rate, ca_rate FROM read_csv('${join(out, 'eval', 'detector-vs-ca-cfar.csv')}') ORDER BY label, snr`)).map((r) => r.map(Number));
    const [negatives, ...targets] = rows;
    const pfa = 1e-3;
    const n = 9 * 21 - 3 * 5; // training cells around each patch centre
    const t = caFactor(pfa, n);
    // False alarms: CA's factor is exact; the CNN's threshold is itself estimated from 10,000 validation negatives.
    expect(negatives[2]).toBe(20_000);
    expect(Math.abs(negatives[4] - pfa)).toBeLessThan(4 * Math.sqrt(pfa / 20_000));
    expect(Math.abs(negatives[3] - pfa)).toBeLessThan(4 * Math.sqrt(pfa * (1 / 20_000 + 1 / 10_000)));
    expect(targets.map((r) => r[1])).toEqual([6, 8, 10, 12, 14, 16]);
    for (const [, snrDb, cells, cnn, ca] of targets) {
      const snr = Math.pow(10, snrDb / 10);
      const theory = Math.pow(1 + t / (n * (1 + snr)), -n); // Swerling I in CA-CFAR
      const sigma = Math.sqrt(theory * (1 - theory) / cells);
      expect(Math.abs(ca - theory), `CA at ${snrDb} dB: ${ca} vs ${theory}`).toBeLessThan(4 * sigma);
      expect(ca - cnn, `CNN at ${snrDb} dB: ${cnn}, CA ${ca}`).toBeLessThan(0.12);
    }
  });

  const mountaintop = sharedData('radar/mountaintop_t38pre01v1_cpi6.sigmf-meta');
  test.skipIf(!mountaintop)('the Mountaintop CPI is raw receiver output: the 100 µs, 500 kHz up-chirp focuses its clutter, the down-chirp does not', async () => {
    const { schema, partitions } = await readSource(sigmfSource, { path: 'mountaintop_t38pre01v1_cpi6.sigmf-meta' }, join(repoRoot, '..', 'shared', 'data', 'radar'));
    const [batch] = partitions[0].batches;
    const [compressed] = await runSteps(schema, [batch], [[pulseCompress, { bandwidth_hz: 5e5 }]]);
    const raw = tensorValues(batch, 'data');
    const [P, N] = [16, 403];
    // The down-chirp's matched filter, directly: y[n] = Σ_k x[n+k] conj(down[k]) = Σ_k x[n+k] up[k] / √L.
    const up = lfmChirp(1e-4, 5e5, 1e6);
    const L = up.re.length;
    const down = new Float64Array(raw.length);
    for (let row = 0; row < raw.length / (2 * N); row++) {
      for (let n = 0; n < N; n++) {
        let re = 0;
        let im = 0;
        for (let k = 0; k < L && n + k < N; k++) {
          const i = (row * N + n + k) * 2;
          re += raw[i] * up.re[k] - raw[i + 1] * up.im[k];
          im += raw[i] * up.im[k] + raw[i + 1] * up.re[k];
        }
        down[(row * N + n) * 2] = re / Math.sqrt(L);
        down[(row * N + n) * 2 + 1] = im / Math.sqrt(L);
      }
    }
    // Sharpness of each pulse's range profile over the clutter (samples 0–299): S Σ|y|⁴ / (Σ|y|²)², mean over pulses and channels.
    const sharpness = (x: ArrayLike<number>) => {
      let total = 0;
      for (let row = 0; row < x.length / (2 * N); row++) {
        let s2 = 0;
        let s4 = 0;
        for (let n = 0; n < 300; n++) {
          const q = x[(row * N + n) * 2] ** 2 + x[(row * N + n) * 2 + 1] ** 2;
          s2 += q;
          s4 += q * q;
        }
        total += (300 * s4) / (s2 * s2);
      }
      return total / (x.length / (2 * N));
    };
    const s = { raw: sharpness(raw), up: sharpness(tensorValues(compressed, 'data')), down: sharpness(down) };
    console.log(`Mountaintop CPI 6, range-profile sharpness: raw ${s.raw.toFixed(4)}, up-chirp filter ${s.up.toFixed(4)}, down-chirp ${s.down.toFixed(4)} (${P} pulses × 14 channels)`);
    // Reference: NumPy (scipy.io.loadmat of the .mat, FFT correlation), offline.
    expect(s.raw).toBeCloseTo(2.9449, 3);
    expect(s.up).toBeCloseTo(3.6099, 3);
    expect(s.down).toBeCloseTo(2.7719, 3);
  });

  test.skipIf(!mountaintop)('mountaintop.yaml: beam + Doppler after pulse compression finds only clutter clusters at 117–195 Hz, not the target at range 146, 156 Hz', async () => {
    const summary = await runWorkflow(join(repoRoot, 'workflows', 'radar', 'mountaintop.yaml'), {
      out: join(out, 'mountaintop'), executor, allowPaths: [join(repoRoot, '..', 'shared', 'data')],
    });
    expect(summary.status, summary.error).toBe('ok');
    const detections = (await duckdb(`SELECT range_bin, doppler_hz FROM '${join(out, 'mountaintop', 'detections.parquet')}'`)).map((r) => r.map(Number));
    expect(detections.length).toBeGreaterThanOrEqual(4);
    for (const [n, f] of detections) {
      expect(f > 100 && f < 200, `detection at ${n}, ${f} Hz`).toBe(true);
      expect(Math.abs(n - 146) > 3 || Math.abs(f - 156.25) > 20, `detection at ${n}, ${f} Hz`).toBe(true);
    }
  });

  const stap3001 = sharedData('radar/mountaintop_stap3001v1_cpi1.sigmf-meta');
  test.skipIf(!stap3001)('mountaintop-beamformer.yaml: on stap3001v1 the learned beam suppresses the jammer within 3 dB of MVDR; element, conventional and MVDR powers as NumPy gives them', async () => {
    const summary = await runWorkflow(join(repoRoot, 'workflows', 'radar', 'mountaintop-beamformer.yaml'), {
      out: join(out, 'beamformer'), executor, allowPaths: [join(repoRoot, '..', 'shared', 'data'), join(repoRoot, 'data')],
    });
    expect(summary.status, summary.error).toBe('ok');
    const rows = await duckdb(`SELECT _source, method, element_power_db, power_db, suppression_db FROM read_csv('${join(out, 'beamformer', 'jammer-suppression.csv')}') ORDER BY _source, method`);
    const table = new Map(rows.map((r) => [`${String(r[0]).match(/cpi\d/)![0]} ${r[1]}`, r.slice(2).map(Number)]));
    // NumPy on the .mat file (complex128; the SigMF files hold the same values as cf32): mean |x|² over
    // all channels and snapshots, and the broadside beams a/M and R⁻¹a/(aᴴR⁻¹a), R over the 6464 snapshots.
    const numpy = { cpi1: { element: 108.7238, conventional: 88.7162, mvdr: 41.6659 }, cpi2: { element: 108.9424, conventional: 88.9521, mvdr: 41.7554 } };
    for (const [cpi, want] of Object.entries(numpy)) {
      expect(table.get(`${cpi} mvdr`)![0]).toBeCloseTo(want.element, 2);
      expect(table.get(`${cpi} conventional`)![1]).toBeCloseTo(want.conventional, 2);
      expect(table.get(`${cpi} mvdr`)![1]).toBeCloseTo(want.mvdr, 2);
      const [learned, mvdr] = [table.get(`${cpi} learned`)![2], table.get(`${cpi} mvdr`)![2]];
      expect(mvdr - learned).toBeLessThan(3);
      expect(learned - table.get(`${cpi} conventional`)![2]).toBeGreaterThan(40);
    }
  });

  test('quiver simulate rewrites the bundled recording byte for byte, and source.sigmf reads back what the simulator made', async () => {
    const dir = scratchDir();
    execFileSync(process.execPath, [join(repoRoot, 'src', 'cli', 'quiver.mjs'), 'simulate', join(radarData, 'sim-demo.yaml'), '--out', dir]);
    for (const suffix of ['.sigmf-meta', '.sigmf-data', '.truth.csv']) {
      expect(readFileSync(join(dir, `sim-demo${suffix}`)).equals(readFileSync(join(radarData, `sim-demo${suffix}`))), suffix).toBe(true);
    }
    const scenario = parse(readFileSync(join(radarData, 'sim-demo.yaml'), 'utf8'));
    const { partitions } = await readSource(sigmfSource, { path: 'sim-demo.sigmf-meta' }, dir);
    expect(partitions.map((p) => p.key)).toEqual(Array.from({ length: 8 }, (_, k) => `sim-demo.sigmf-meta#cpi${k}`));
    const { name, description, cpis, seed, ...rest } = scenario;
    for (const cpi of [0, 7]) {
      const expected = simulateCpi(scenarioSchema.parse(rest), cpiRandom(seed, cpi), cpi).data;
      expect(tensorValues(partitions[cpi].batches[0], 'data')).toEqual(expected);
    }
  });
});
