// The astronomy reference workflows on bundled data, checked against independent records: the
// NOAA GOES event list (../shared/data, not bundled: its repository has no licence file).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { fitsSource } from '../../connectors/fits/source.ts';
import { LocalExecutor } from '../../src/engine/executors/local.ts';
import { runWorkflow } from '../../src/index.ts';
import { readSource } from '../connectors/stage-harness.ts';
import { duckdb, repoRoot, scratchDir, sharedData } from '../helpers.ts';

const out = scratchDir();
const executor = new LocalExecutor({ workers: 2 });
afterAll(() => executor.close());
const run = async (name: string) => {
  const summary = await runWorkflow(join(repoRoot, 'workflows', 'astronomy', `${name}.yaml`), { out: join(out, name), executor, allowPaths: [join(repoRoot, 'data')] });
  expect(summary.status, summary.error).toBe('ok');
  return summary;
};
const noaa = sharedData('astronomy/solarflarenet_solar_events.csv');

describe('reference workflows: astronomy', () => {
  test('survey-reduce: a catalog holding the image\'s six stars, its RA/Dec inside the image', async () => {
    await run('survey-reduce');
    const [[rows, outside, brightRows]] = await duckdb(`SELECT count(*), count(*) FILTER (x < 0 OR y < 0 OR x > 299 OR y > 299 OR ra IS NULL),
      count(*) FILTER (flux_aper / flux_aper_err > 5) FROM '${join(out, 'survey-reduce', 'catalog.parquet')}'`);
    expect(Number(rows)).toBeGreaterThan(50);
    expect(Number(outside)).toBe(0);
    expect(Number(brightRows)).toBeGreaterThanOrEqual(6);
    // The six stars of the image, centroided by scipy.ndimage.center_of_mass over 9 × 9 pixels less
    // the local median (astropy 5.2 reading, scipy 1.10): each is a source with S/N > 5 within 0.3 px.
    const stars = [[149.56, 149.06], [166.52, 168.14], [252.31, 180.73], [161.03, 95.92], [145.69, 268.55], [147.23, 119.97]];
    for (const [x, y] of stars) {
      const [[near]] = await duckdb(`SELECT count(*) FROM '${join(out, 'survey-reduce', 'catalog.parquet')}'
        WHERE flux_aper / flux_aper_err > 5 AND (x - ${x}) ^ 2 + (y - ${y}) ^ 2 < 0.09`);
      expect(Number(near), `a star at ${x}, ${y}`).toBe(1);
    }
    // The image corners as astropy.wcs gives them (WCS_REFERENCE.json): every source lies between.
    const [[minRa, maxRa, minDec, maxDec]] = await duckdb(`SELECT min(ra), max(ra), min(dec), max(dec) FROM '${join(out, 'survey-reduce', 'catalog.parquet')}'`);
    expect(Number(minRa)).toBeGreaterThan(83.62401997875286 - 1e-4);
    expect(Number(maxRa)).toBeLessThan(83.6421187885678 + 1e-4);
    expect(Number(minDec)).toBeGreaterThan(22.006137479199005 - 1e-4);
    expect(Number(maxDec)).toBeLessThan(22.02289062604308 + 1e-4);
  });

  test('flare-forecast: no active region on both sides; TSS, HSS and accuracy equal DuckDB on the predictions; the SHARP header agrees with FlareML', async () => {
    await run('flare-forecast');
    const predictions = join(out, 'flare-forecast', 'predictions.parquet');
    const [[shared]] = await duckdb(`SELECT count(*) FROM (SELECT AR FROM '${predictions}' GROUP BY AR HAVING count(DISTINCT split) > 1)`);
    expect(Number(shared)).toBe(0);
    const metrics = await duckdb(`SELECT model, tss, hss, accuracy, tp + fn FROM read_csv('${join(out, 'flare-forecast', 'metrics.csv')}')`);
    expect(metrics.map((m) => m[0])).toEqual(['logistic regression', 'MLP 16-8', 'climatology (no major flare)']);
    for (const [model, column] of [['logistic regression', 'p_logistic'], ['MLP 16-8', 'p_mlp']]) {
      const [[tp, fp, tn, fn]] = await duckdb(`SELECT count(*) FILTER (${column} > 0.5 AND major = 1), count(*) FILTER (${column} > 0.5 AND major = 0),
        count(*) FILTER (${column} <= 0.5 AND major = 0), count(*) FILTER (${column} <= 0.5 AND major = 1) FROM '${predictions}' WHERE split = 'test'`);
      const [a, b, c, d] = [tp, fp, tn, fn].map(Number);
      const row = metrics.find((m) => m[0] === model)!;
      expect(Number(row[1])).toBeCloseTo(a / (a + d) - b / (b + c), 12);
      expect(Number(row[2])).toBeCloseTo((2 * (a * c - d * b)) / ((a + d) * (d + c) + (a + b) * (b + c)), 12);
      expect(Number(row[3])).toBeCloseTo((a + c) / (a + b + c + d), 12);
      expect(Number(row[1])).toBeGreaterThan(0.2); // better than chance, by a margin
    }
    const climatology = metrics[2];
    const [[majors, rows]] = await duckdb(`SELECT sum(major), count(*) FROM '${predictions}' WHERE split = 'test'`);
    expect([Number(climatology[1]), Number(climatology[2])]).toEqual([0, 0]);
    expect(Number(climatology[3])).toBeCloseTo(1 - Number(majors) / Number(rows), 12);

    // The HMI SHARP header of AR 11158 at 02:00 TAI against FlareML's row for its X2.2 flare (dated 2011-02-15 00:10
    // there): the slowly changing whole-region parameters agree to 5 %.
    const [header] = await duckdb(`SELECT NOAA_AR, TOTUSJH, TOTPOT, TOTUSJZ, USFLUX, AREA_ACR, MEANPOT, SHRGT45 FROM read_csv('${join(out, 'flare-forecast', 'sharp-header-features.csv')}')`);
    expect(Number(header[0])).toBe(11158);
    [3249.07, 8.6e23, 6.2133e13, 2.74e22, 1103.97, 14038, 59.489].forEach((flareml, i) => expect(Math.abs(Number(header[i + 1]) / flareml - 1)).toBeLessThan(0.05));
  });

  test('radio-clean: on the real EHT uv coverage, CLEAN keeps the sky\'s total flux and puts its brightest source in place', async () => {
    await run('radio-clean');
    const image = async (name: string) => {
      const { partitions: [{ batches: [row] }] } = await readSource(fitsSource, { path: name }, join(out, 'radio-clean'));
      return Float64Array.from(row.getChild('data')!.get(0) as Iterable<number>);
    };
    const model = await image('clean-model.fits');
    // 24 × 25 mJy on the ring and 0.9 Jy off-centre.
    expect(Math.abs(model.reduce((a, b) => a + b, 0) - 1.5)).toBeLessThan(0.015);
    const peak = model.indexOf(Math.max(...model));
    // The 0.9 Jy source at (+30, +24) µas: pixel (32 + 15, 32 + 12) of 2 µas.
    expect(Math.hypot((peak % 64) - 47, Math.floor(peak / 64) - 44)).toBeLessThanOrEqual(1.5);
    const [summary] = await duckdb(`SELECT visibilities, iterations FROM read_csv('${join(out, 'radio-clean', 'clean-summary.csv')}')`);
    expect(Number(summary[0])).toBe(6453);
    expect(Number(summary[1])).toBeLessThan(10_000);
  });

  test('deconv: skies through the EHT beam, a CNN trained on them, scored beside CLEAN and the dirty image', async () => {
    const summary = await runWorkflow(join(repoRoot, 'workflows', 'astronomy', 'deconv.yaml'), { out: join(out, 'deconv'), executor, set: ['count=120', 'epochs=2'], allowPaths: [join(repoRoot, 'data')] });
    expect(summary.status, summary.error).toBe('ok');
    const metrics = await duckdb(`SELECT image, rows, psnr_db, abs_flux_error FROM read_csv('${join(out, 'deconv', 'metrics.csv')}')`);
    expect(metrics.map((m) => m[0])).toEqual(['prediction', 'restored', 'dirty']);
    for (const m of metrics) {
      expect(Number(m[1])).toBe(18); // the test skies: the last 15 % of 120
      expect(Number.isFinite(Number(m[2]))).toBe(true);
    }
    // CLEAN's restored image keeps each sky's flux to a few per cent (its residual holds what it did not take).
    expect(Number(metrics[1][3])).toBeLessThan(0.03);
  });

  test('magnetogram-sr: its training workflow keeps the committed model (same rows, same params); on the held-out LOS magnetogram it beats bicubic', async () => {
    const allowPaths = [join(repoRoot, 'data')];
    const trained = await runWorkflow(join(repoRoot, 'workflows', 'astronomy', 'magnetogram-sr-train.yaml'), { out: join(out, 'magnetogram-sr-train'), executor, allowPaths });
    expect(trained.status, trained.error).toBe('ok');
    const committed = join(repoRoot, 'data', 'models', 'magnetogram-sr');
    for (const file of ['weights.bin', 'quiver-model.json']) {
      expect(readFileSync(join(out, 'magnetogram-sr-train', 'magnetogram-sr', file)).equals(readFileSync(join(committed, file))), file).toBe(true);
    }
    const scored = await runWorkflow(join(repoRoot, 'workflows', 'astronomy', 'magnetogram-sr.yaml'), { out: join(out, 'magnetogram-sr'), executor, allowPaths });
    expect(scored.status, scored.error).toBe('ok');
    const [learned, bicubic] = await duckdb(`SELECT image, pixels, psnr_db, rmse, correlation FROM read_csv('${join(out, 'magnetogram-sr', 'metrics.csv')}')`);
    expect([learned[0], bicubic[0], Number(learned[1])]).toEqual(['learned', 'bicubic', 376 * 744]);
    expect(Number(learned[2])).toBeGreaterThan(Number(bicubic[2]));
    expect(Number(learned[3])).toBeLessThan(Number(bicubic[3]));
    expect(Number(learned[4])).toBeGreaterThan(0.98);
    // Without noise the bicubic row is deterministic: numpy (astropy's read, block means, Keys a = −0.5 by
    // matrix products with the edge repeated; PIL agrees inside to 2e-4 G) gives RMSE 32.0840103 G,
    // PSNR 40.9698231 dB (range 3587.4 G), correlation 0.98735713, unsigned flux −2.5692169 %.
    const exact = await runWorkflow(join(repoRoot, 'workflows', 'astronomy', 'magnetogram-sr.yaml'), { out: join(out, 'magnetogram-sr-exact'), executor, allowPaths, set: ['noise_gauss=0'] });
    expect(exact.status, exact.error).toBe('ok');
    const [[, rmse, psnr, correlation, flux, peak]] = (await duckdb(`SELECT image, rmse, psnr_db, correlation, unsigned_flux_error, peak FROM read_csv('${join(out, 'magnetogram-sr-exact', 'metrics.csv')}') WHERE image = 'bicubic'`)).map((r) => r.map(Number));
    expect(rmse / 32.08401031583047 - 1).toBeCloseTo(0, 6);
    expect(psnr - 40.96982312997879).toBeCloseTo(0, 5);
    expect(correlation - 0.9873571329485553).toBeCloseTo(0, 7);
    expect(flux - -0.02569216926983342).toBeCloseTo(0, 7);
    expect(peak).toBeCloseTo(3587.4, 3);
  });

  test.skipIf(!noaa)('goes-flares: every event NOAA lists for 2011-06-07 is found, same class, start, peak and end to the minute', async () => {
    await run('goes-flares');
    const found = readFileSync(join(out, 'goes-flares', 'flares.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
    const listed = readFileSync(noaa!, 'utf8').split('\n').filter((l) => l.includes(',2011-06-07T')).map((l) => l.split(','));
    expect(listed.map((l) => l[0])).toContain('M2.5');
    // Times to the minute, as NOAA lists them ('2011-06-07T06:16Z').
    const minute = (iso: string) => iso.replace('Z', '').slice(0, 16);
    for (const [cls, start, peak, end] of listed) {
      const match = found.find((f) => minute(f[0]) === minute(start));
      expect(match, `NOAA ${cls} starting ${start}`).toBeDefined();
      expect([match![3], minute(match![1]), minute(match![2])]).toEqual([cls, minute(peak), minute(end)]);
    }
  });
});
