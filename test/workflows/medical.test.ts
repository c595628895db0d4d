// The medical reference workflows on bundled data: ct-lung's classical lung mask scored against the
// TotalSegmentator lobes, its metrics checked against scipy (ndimage.distance_transform_edt and
// binary_erosion surfaces on the mask this workflow wrote: Dice 0.9564076276399426, IoU
// 0.9164570889657341, HD95 2.0 mm, 112.491 and 106.974 mL; scipy 1.10, numpy 1.24).
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { niftiBytes } from '../../connectors/nifti.ts';
import { niftiAffine, parseNiftiHeader } from '../../connectors/nifti/header.ts';
import { LocalExecutor } from '../../src/engine/executors/local.ts';
import { runWorkflow } from '../../src/index.ts';
import { duckdb, repoRoot, scratchDir } from '../helpers.ts';

const out = scratchDir();
const executor = new LocalExecutor({ workers: 2 });
afterAll(() => executor.close());

describe('reference workflows: medical', { timeout: 120_000 }, () => {
  test('ct-lung: a lung mask with Dice above 0.95 against the TotalSegmentator lobes, the metrics scipy gives, a NIfTI mask on the 1-mm RAS grid', async () => {
    const summary = await runWorkflow(join(repoRoot, 'workflows', 'medical', 'ct-lung.yaml'), { out: join(out, 'ct-lung'), executor, allowPaths: [join(repoRoot, 'data')] });
    expect(summary.status, summary.error).toBe('ok');
    const [[label, dice, iou, hd95, predicted, reference]] = await duckdb(`SELECT label, dice, iou, hd95_mm, predicted_ml, reference_ml FROM read_csv('${join(out, 'ct-lung', 'dice.csv')}')`);
    expect(label).toBe('lung');
    expect(Number(dice)).toBeGreaterThan(0.95);
    expect(Number(dice)).toBeCloseTo(0.9564076276399426, 12);
    expect(Number(iou)).toBeCloseTo(0.9164570889657341, 12);
    expect(Number(hd95)).toBe(2);
    expect([Number(predicted), Number(reference)]).toEqual([112.491, 106.974]);
    // The reference's grid (3 mm, RAS, origin −177.956329, 11.319, 94.301758) at 1 mm: (122 − 1) × 3 + 1 voxels across.
    const header = parseNiftiHeader(await niftiBytes(join(out, 'ct-lung', 'masks', 'totalseg_example_ct_sm.nii.gz')));
    expect(header.dims).toEqual([364, 301, 88]);
    niftiAffine(header).affine.forEach((v, i) => expect(v).toBeCloseTo([1, 0, 0, -177.956329, 0, 1, 0, 11.319, 0, 0, 1, 94.301758, 0, 0, 0, 1][i], 4));
    const [[voxels, volume, emphysema]] = await duckdb(`SELECT voxels, volume_ml, emphysema_index FROM read_csv('${join(out, 'ct-lung', 'measurements.csv')}')`);
    expect(Number(volume)).toBeCloseTo((Number(voxels) * 27) / 1000, 9); // 3-mm voxels: measured on the scanner's grid
    expect(Number(emphysema)).toBeLessThan(0.01);
  });
});
