// Magnetogram super-resolution: tiles that stitch to the untiled result (a box filter by hand, and
// the committed network), training patches that add back to the true field and whose symmetries
// commute with bicubic upsampling, metrics by closed forms, and the committed model beating bicubic
// on a held-out crop of the LOS magnetogram (never seen in training).
import { Schema, type RecordBatch } from 'apache-arrow';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { makeBatch } from '../../../src/arrow/batch.ts';
import { tensorData, tensorField, tensorValues } from '../../../src/arrow/tensor.ts';
import { readArtifactBytes } from '../../../src/models/artifact.ts';
import { bicubicUpsample } from '../../../src/numeric/bicubic.ts';
import { runTiled, tileStarts } from '../../../src/stages/astro/lib/tiles.ts';
import { FidelitySums } from '../../../src/stages/astro/super-resolution-metrics.ts';
import { degrade, superResolutionPairs, symmetric } from '../../../src/stages/astro/super-resolution-pairs.ts';
import { ResizableNetwork, superResolve, superResolveStage } from '../../../src/stages/astro/super-resolve.ts';
import { fitsSource } from '../../../connectors/fits/source.ts';
import type { MapStage } from '../../../src/workflow/stage.ts';
import { repoRoot } from '../../helpers.ts';
import { readSource } from '../../connectors/stage-harness.ts';

const modelDir = join(repoRoot, 'data', 'models', 'magnetogram-sr');
const magnetogramFile = join(repoRoot, 'data', 'astronomy', 'hmi.sharp_cea_720s.377.20110215_020000_TAI.magnetogram.fits');

const imageBatch = (name: string, values: Float32Array, height: number, width: number): RecordBatch =>
  makeBatch(new Schema([tensorField(name, { shape: [height, width], kind: 'float32' })]), [tensorData(tensorField(name, { shape: [height, width], kind: 'float32' }), values, 1)], 1);

async function runMap(stage: MapStage, params: unknown, batch: RecordBatch): Promise<RecordBatch> {
  const p = stage.params.parse(params);
  const outputSchema = stage.outputSchema({ params: p, inputs: [batch.schema], baseDir: repoRoot });
  const run = await stage.create(p, { inputSchema: batch.schema, outputSchema, baseDir: repoRoot });
  return (await run(makeBatch(batch.schema, batch.data.children, batch.numRows), { index: 0, key: 'test' }))!;
}

/** A 3 × 3 box sum with zeros beyond the image: receptive radius 1. */
function boxSum(image: Float32Array, h: number, w: number): Float32Array {
  const out = new Float32Array(h * w);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
      if (y + dy >= 0 && y + dy < h && x + dx >= 0 && x + dx < w) out[y * w + x] += image[(y + dy) * w + x + dx];
    }
  }
  return out;
}

/** The crop of the magnetogram at rows y0.., columns x0.. (the active region's strong-field core lies at 176, 320). */
async function magnetogramCrop(y0: number, x0: number, size: number): Promise<Float32Array> {
  const { partitions: [{ batches: [row] }] } = await readSource(fitsSource, { path: magnetogramFile, hdu: 1 }, '.');
  const data = tensorValues(row, 'data');
  const crop = new Float32Array(size * size);
  for (let y = 0; y < size; y++) crop.set(data.subarray((y0 + y) * 744 + x0, (y0 + y) * 744 + x0 + size), y * size);
  return crop;
}

describe('tiles', () => {
  test('starts step by tile − 2·margin, the last flush with the end; one tile when it fits', () => {
    expect(tileStarts(20, 8, 1)).toEqual([0, 6, 12]);
    expect(tileStarts(23, 8, 1)).toEqual([0, 6, 12, 15]);
    expect(tileStarts(8, 8, 3)).toEqual([0]);
    expect(() => tileStarts(20, 6, 3)).toThrow(/tiles of 6 pixels cannot keep anything with 3 cropped/);
  });

  test('a box filter run in overlapping tiles cropped by its radius equals one run over the image', async () => {
    const [h, w] = [21, 23];
    const image = Float32Array.from({ length: h * w }, (_, i) => Math.sin(i * 0.37) * 100 + (i % 7));
    const tiled = await runTiled(image, h, w, 8, 1, async (tiles, count, th, tw) => {
      const out = new Float32Array(tiles.length);
      for (let k = 0; k < count; k++) out.set(boxSum(tiles.subarray(k * th * tw, (k + 1) * th * tw), th, tw), k * th * tw);
      return out;
    });
    expect(Array.from(tiled)).toEqual(Array.from(boxSum(image, h, w)));
  });
});

describe('training pairs', () => {
  test('a patch symmetry (rotation, mirror, sign) commutes with bicubic upsampling', () => {
    const side = 6;
    const low = Float32Array.from({ length: side * side }, (_, i) => ((i * 37) % 17) - 8 + i * 0.1);
    for (let k = 0; k < 16; k++) {
      const a = bicubicUpsample(symmetric(low, side, k), side, side, 4);
      const b = symmetric(Float32Array.from(bicubicUpsample(low, side, side, 4)), side * 4, k);
      a.forEach((v, i) => expect(v).toBeCloseTo(b[i], 4));
    }
    expect(Array.from(symmetric(symmetric(low, side, 4), side, 4))).toEqual(Array.from(low)); // transpose twice
  });

  test('degrade then pairs: block means, patches that add back to the field, a validation band apart', async () => {
    const [H, W] = [33, 130]; // cropped to 32 × 128
    const field = Float32Array.from({ length: H * W }, (_, i) => 50 * Math.sin(i / 9) + (i % W));
    const degraded = await runMap(degrade, { image: 'data', scale: 4 }, imageBatch('data', field, H, W));
    const low = tensorValues(degraded, 'low');
    expect(low.length).toBe(8 * 32);
    let block = 0;
    for (let y = 4; y < 8; y++) for (let x = 8; x < 12; x++) block += field[y * W + x];
    expect(low[1 * 32 + 2]).toBeCloseTo(block / 16, 3);
    const pairs = await runMap(superResolutionPairs, { patch: 16, stride: 8, validation: 0.25, copies: 1, seed: 3 }, degraded);
    const split = Array.from({ length: pairs.numRows }, (_, i) => String(pairs.getChild('split')!.get(i)));
    const xs = Array.from({ length: pairs.numRows }, (_, i) => Number(pairs.getChild('x')!.get(i)));
    // Train: x + 16 ≤ 96, rows y = 0, 8, 16 and x = 0..80 step 8, each with a copy; validation starts at 96 + 8.
    expect(split.filter((s) => s === 'train').length).toBe(3 * 11 * 2);
    expect(xs.filter((_, i) => split[i] === 'validation')).toEqual([104, 112, 104, 112, 104, 112]);
    const [bicubic, correction] = [tensorValues(pairs, 'bicubic'), tensorValues(pairs, 'correction')];
    const row = split.indexOf('validation') + 1; // x 112, y 0
    for (let y = 0; y < 16; y++) for (let x = 0; x < 16; x++) {
      expect(bicubic[row * 256 + y * 16 + x] + correction[row * 256 + y * 16 + x]).toBeCloseTo(field[y * W + 112 + x], 3);
    }
  });
});

describe('metrics', () => {
  test('an image off by a constant: RMSE the constant, PSNR from the data range, correlation 1', () => {
    const reference = Float64Array.from({ length: 50 }, (_, i) => i - 10); // range 49, Σ|b| = 55 + 780
    const sums = new FidelitySums();
    sums.add(reference.map((v) => v + 2), reference);
    const s = sums.scores();
    expect(s.rmse).toBeCloseTo(2, 12);
    expect(s.psnr_db).toBeCloseTo(20 * Math.log10(49 / 2), 12);
    expect(s.correlation).toBeCloseTo(1, 12);
    // b + 2 runs over −8 … 41: Σ|b + 2| = 36 + 861 = 897 against 835.
    expect(s.unsigned_flux_error).toBeCloseTo(897 / 835 - 1, 12);
  });
});

describe('the committed model on the held-out LOS magnetogram', () => {
  test('tiles of 32 stitch to one untiled run of the network over a 64 × 64 crop', async () => {
    const network = await ResizableNetwork.load(readArtifactBytes(modelDir), modelDir);
    const crop = await magnetogramCrop(176, 320, 64);
    const lowValues = tensorValues(await runMap(degrade, { image: 'data', scale: 4, noise: 5, seed: 7 }, imageBatch('data', crop, 64, 64)), 'low');
    const untiled = await superResolve(lowValues, 16, 16, { scale: 4, tile: 64, batch_size: 4 }, network);
    const tiled = await superResolve(lowValues, 16, 16, { scale: 4, tile: 32, batch_size: 4 }, network);
    const bicubic = bicubicUpsample(lowValues, 16, 16, 4);
    expect(Math.max(...untiled.map((v, i) => Math.abs(v - bicubic[i])))).toBeGreaterThan(1); // the network does change the image
    untiled.forEach((v, i) => expect(Math.abs(v - tiled[i])).toBeLessThan(1e-3));
  });

  test('on a 96 × 96 crop of the active region it beats bicubic on RMSE and PSNR', async () => {
    const crop = await magnetogramCrop(176, 320, 96);
    const degraded = await runMap(degrade, { image: 'data', scale: 4, noise: 5, seed: 7 }, imageBatch('data', crop, 96, 96));
    const bicubic = await runMap(superResolveStage, { output: 'bicubic' }, degraded);
    const learned = await runMap(superResolveStage, { model: 'data/models/magnetogram-sr', output: 'learned', tile: 64 }, bicubic);
    const score = (column: string) => {
      const sums = new FidelitySums();
      sums.add(tensorValues(learned, column), tensorValues(learned, 'high'));
      return sums.scores();
    };
    const [b, l] = [score('bicubic'), score('learned')];
    expect(l.rmse).toBeLessThan(b.rmse);
    expect(l.psnr_db).toBeGreaterThan(b.psnr_db);
  });
});
