// workflows/medical/nodule-detect.yaml on a few held-out copies: SIMULATED nodules in the right
// lung of the TotalSegmentator crop (the committed CNN, data/models/nodule-cnn, was trained on the
// left lung with another seed), candidates from the LoG detector, ranked by LoG and by the CNN.
// The truth and detections are checked for what they must be (nodules in the right lung, diameters
// in range, every counted volume present); the FROC points are held to floors below what the
// full run measured (README, Medical imaging), so a broken simulator, detector or model shows.
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { LocalExecutor } from '../../src/engine/executors/local.ts';
import { runWorkflow } from '../../src/index.ts';
import { duckdb, repoRoot, scratchDir } from '../helpers.ts';

const out = scratchDir();
const executor = new LocalExecutor({ workers: 2 });
afterAll(() => executor.close());

describe('reference workflows: nodule detection', () => {
  test('nodule-detect.yaml on 6 held-out copies: truth in the right lung, FROC of the LoG and the committed 3-D CNN', async () => {
    const summary = await runWorkflow(join(repoRoot, 'workflows', 'medical', 'nodule-detect.yaml'), { out, executor, set: ['copies=6'], allowPaths: [join(repoRoot, 'data')] });
    expect(summary.status, summary.error).toBe('ok');
    const nodules = await duckdb(`SELECT kind, diameter_mm, x_mm FROM read_csv('${join(out, 'nodules.csv')}')`);
    expect(nodules).toHaveLength(18);
    for (const [kind, diameter, x] of nodules) {
      expect(['solid', 'part-solid']).toContain(kind);
      expect(Number(diameter)).toBeGreaterThanOrEqual(3);
      expect(Number(diameter)).toBeLessThanOrEqual(30);
      expect(Number(x)).toBeLessThan(0); // the patient's right (RAS −x); the lungs straddle x ≈ 0 here
    }
    const froc = Object.fromEntries((await duckdb(`SELECT detector, fp_per_volume, sensitivity, nodules, volumes FROM read_csv('${join(out, 'froc.csv')}')`))
      .map(([d, f, s, n, v]) => [`${String(d).startsWith('LoG') ? 'log' : 'cnn'}@${Number(f)}`, { sensitivity: Number(s), nodules: Number(n), volumes: Number(v) }]));
    console.log(JSON.stringify(froc));
    expect(Object.keys(froc).sort()).toEqual(['cnn@1', 'cnn@2', 'cnn@4', 'log@1', 'log@2', 'log@4']);
    for (const point of Object.values(froc)) expect(point).toMatchObject({ nodules: 18, volumes: 6 });
    for (const d of ['log', 'cnn']) {
      expect(froc[`${d}@1`].sensitivity).toBeLessThanOrEqual(froc[`${d}@2`].sensitivity);
      expect(froc[`${d}@2`].sensitivity).toBeLessThanOrEqual(froc[`${d}@4`].sensitivity);
    }
    // Measured (wasm, 6 copies): LoG 0.72 / 0.72 / 0.72, CNN 0.67 / 0.72 / 0.72.
    expect(froc['log@1'].sensitivity).toBeGreaterThanOrEqual(0.6);
    expect(froc['log@4'].sensitivity).toBeGreaterThanOrEqual(0.6);
    expect(froc['cnn@1'].sensitivity).toBeGreaterThanOrEqual(0.5);
    expect(froc['cnn@4'].sensitivity).toBeGreaterThanOrEqual(0.6);
  });
});
