// workflows/astronomy/euv-repair.yaml on the real AIA 193 Å image (bundled in data/astronomy), with the committed U-Net (data/models/euv-repair-unet): on the held-out quadrant's
// synthetic over-exposures every method is scored over the same masked pixels, and the network
// beats the trivial fill (the clipped image as recorded) inside the masks; the real saturated
// pixels get a repair from each method.
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { LocalExecutor } from '../../src/engine/executors/local.ts';
import { runWorkflow } from '../../src/index.ts';
import { duckdb, repoRoot, scratchDir } from '../helpers.ts';

const executor = new LocalExecutor({ workers: 1 });
afterAll(() => executor.close());

describe('reference workflow: euv-repair', () => {
  test('held-out tiles: the U-Net beats the trivial fill inside the masks; real saturation repaired', async () => {
    const out = scratchDir();
    const summary = await runWorkflow(join(repoRoot, 'workflows', 'astronomy', 'euv-repair.yaml'), { out, executor, allowPaths: [join(repoRoot, 'data')] });
    expect(summary.status, summary.error).toBe('ok');
    const rows = await duckdb(`SELECT image, rows, masked_pixels, psnr_db, flux_error FROM read_csv('${join(out, 'inpainting.csv')}')`);
    const by = Object.fromEntries(rows.map((r) => [String(r[0]), r.slice(1).map(Number)]));
    expect(Object.keys(by)).toEqual(['observed', 'harmonic', 'biharmonic', 'unet']);
    // The same held-out tiles and masked pixels for every method.
    for (const k of Object.keys(by)) expect(by[k].slice(0, 2)).toEqual(by.observed.slice(0, 2));
    expect(by.observed[0]).toBeGreaterThan(30);
    expect(by.unet[2]).toBeGreaterThan(by.observed[2]);
    const real = await duckdb(`SELECT image, masked_pixels, flux, reference_flux FROM read_csv('${join(out, 'real-saturation.csv')}')`);
    expect(real.map((r) => String(r[0]))).toEqual(['harmonic', 'biharmonic', 'unet']);
    for (const r of real) expect(Number(r[1])).toBeGreaterThan(460); // the 460 pixels at 255 at 1024², and their dilation
  });
});
