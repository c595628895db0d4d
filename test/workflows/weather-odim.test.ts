// workflows/radar/weather-odim.yaml on the real KNMI volume in ../shared/data (skipped without it):
// it runs, and the Cartesian grid of the decluttered lowest sweep is 400 × 400 pixels of 1 km.
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { LocalExecutor } from '../../src/engine/executors/local.ts';
import { runWorkflow } from '../../src/index.ts';
import { duckdb, repoRoot, scratchDir, sharedData } from '../helpers.ts';

const radar = sharedData('radar');
const executor = new LocalExecutor({ workers: 1 });
afterAll(() => executor.close());

describe.skipIf(!radar)('reference workflow: radar weather-odim', () => {
  test('KNMI volume → clutter filter → lowest sweep on a 1 km grid → Parquet', async () => {
    const out = scratchDir();
    const summary = await runWorkflow(join(repoRoot, 'workflows', 'radar', 'weather-odim.yaml'), { out, executor, allowPaths: [join(radar!, '..')] });
    expect(summary.status, summary.error).toBe('ok');
    const file = join(out, 'knmi-dbzh-cartesian.parquet');
    const [row] = await duckdb(`SELECT sweep, quantity, len(data), len(clutter), pixel_m, clutter_fraction FROM '${file}'`);
    expect(row.slice(0, 5).map(String)).toEqual(['1', 'DBZH', '160000', '160000', '1000']);
    expect(Number(row[5])).toBeGreaterThan(0);
  });
});
