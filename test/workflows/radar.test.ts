// The radar reference workflows: cfar.yaml on the bundled simulated CPIs (checked against the
// simulator's truth table), mountaintop.yaml on the real Mountaintop CPI (the injected target the
// file's notes describe), mountaintop-beamformer.yaml on the stap3001v1 jammer CPIs, and
// `quiver simulate` reproducing the bundled data byte for byte.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { sigmfSource } from '../../connectors/sigmf/source.ts';
import { tensorValues } from '../../src/arrow/tensor.ts';
import { LocalExecutor } from '../../src/engine/executors/local.ts';
import { runWorkflow } from '../../src/index.ts';
import { caFactor } from '../../src/stages/radar/lib/cfar-factor.ts';
import { cpiRandom, scenarioSchema, simulateCpi } from '../../src/stages/radar/lib/simulate.ts';
import { readSource } from '../connectors/stage-harness.ts';
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
  test.skipIf(!mountaintop)('mountaintop.yaml: the strongest detection is the injected target, 156 Hz at range sample 178', async () => {
    const summary = await runWorkflow(join(repoRoot, 'workflows', 'radar', 'mountaintop.yaml'), {
      out: join(out, 'mountaintop'), executor, allowPaths: [join(repoRoot, '..', 'shared', 'data')],
    });
    expect(summary.status, summary.error).toBe('ok');
    const [strongest] = await duckdb(`SELECT range_bin, doppler_hz, snr_db FROM '${join(out, 'mountaintop', 'detections.parquet')}' ORDER BY power DESC LIMIT 1`);
    expect(Math.abs(Number(strongest[0]) - 178)).toBeLessThanOrEqual(2);
    expect(Math.abs(Number(strongest[1]) - 156)).toBeLessThan(39.0625 / 2); // within half a Doppler bin
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
