// Malformed and hostile images for source.fits, source.nifti and source.dicom (issue 16): mutated
// copies of real files (fuzz-read.ts reads each fully in a worker thread) and hand-made files whose
// headers declare sizes the file cannot back (negative or huge axes, headers without END, rows of
// no bytes, small gzip/deflate streams that inflate a thousandfold). Each must give sane batches or
// one InputError naming the file and the cause; never a hang (the worker's time limit), a raw
// TypeError/RangeError, a crash, or a peak RSS of 1 GB or more. The worker's heap is 512 MiB,
// which is also the readers' memory budget (src/io/decode-limits.ts).
//
// QUIVER_FUZZ_SEED=<n> replays another seed, QUIVER_FUZZ_CASES=<n> changes the cases per seed file.
import { once } from 'node:events';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createGzip, deflateRawSync, gzipSync, inflateRawSync, constants } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { emptyPrimary, headerBytes, type Cards } from '../../connectors/fits/write.ts';
import { niftiHeaderBytes } from '../../connectors/nifti/header.ts';
import { repoRoot, scratchDir } from '../helpers.ts';
import { FuzzWorker, type Verdict } from './fuzz-pool.ts';
import type { ReadOutcome } from './fuzz-read.ts';
import { concat, mutate, prng } from './mutations.ts';

const SEED = Number(process.env.QUIVER_FUZZ_SEED ?? 20_261_127);
const CASES = Number(process.env.QUIVER_FUZZ_CASES ?? 16);
/** Generous: a case ends in well under a second; only a hang takes this long. */
const CASE_LIMIT_MS = 60_000; // a hang, not a slow read on a busy machine
const HEAP_MB = 512;
const PEAK_RSS_LIMIT = 1e9;

const dir = scratchDir('quiver-fuzz-images-');
const pool = new FuzzWorker(CASE_LIMIT_MS, HEAP_MB);

type Family = 'source.fits' | 'source.nifti' | 'source.dicom';

/** What every case of a family came to, for the summary printed at the end. */
const tallies = new Map<Family, { cases: number; errors: number; ok: number; hang: number; crash: number; overRss: number; peak: number }>();
afterAll(async () => {
  await pool.close();
  for (const [family, t] of tallies) {
    console.log(`${family} (QUIVER_FUZZ_SEED=${SEED}): ${t.cases} cases: ${t.errors} InputErrors, ${t.ok} read, ${t.hang} hangs, ${t.crash} crashes, ${t.overRss} over 1 GB RSS; peak RSS ${(t.peak / 1e6).toFixed(0)} MB`);
  }
});

/**
 * Reads `name` (in `family`'s folder) in the worker and checks the outcome: an answer in time,
 * peak RSS under 1 GB, and either batches or one InputError naming the file.
 */
async function check(family: Family, name: string, params: Record<string, unknown>, what: string): Promise<ReadOutcome | undefined> {
  const folder = join(dir, family);
  const verdict: Verdict = await pool.read({ reader: family, params: { ...params, path: name }, baseDir: folder });
  const t = tallies.get(family) ?? { cases: 0, errors: 0, ok: 0, hang: 0, crash: 0, overRss: 0, peak: 0 };
  tallies.set(family, t);
  t.cases++;
  const where = `${family}, QUIVER_FUZZ_SEED=${SEED}: ${what} → ${JSON.stringify(verdict).slice(0, 600)}`;
  if (!('ok' in verdict)) {
    if ('hang' in verdict) t.hang++;
    else t.crash++;
    expect.soft('hang' in verdict ? 'hang' : 'crash', where).toBe('an answer');
    return undefined;
  }
  t.peak = Math.max(t.peak, verdict.peakRss);
  if (verdict.peakRss >= PEAK_RSS_LIMIT) t.overRss++;
  expect.soft(verdict.peakRss, where).toBeLessThan(PEAK_RSS_LIMIT);
  if (verdict.ok) {
    t.ok++;
    return verdict;
  }
  if (verdict.inputError) t.errors++;
  expect.soft(verdict.inputError, where).toBe(true);
  expect.soft(verdict.message.startsWith(`${name}`), where).toBe(true);
  expect.soft(verdict.message, where).not.toMatch(/\n/);
  // A cause in the reader's words, not a JavaScript engine's message passed on.
  expect.soft(verdict.message, where).not.toMatch(/Cannot read prop|is not a function|is not iterable|Invalid (typed )?array length|Maximum call stack|Offset is outside|out of bounds/);
  return verdict;
}

const put = (family: Family, name: string, bytes: Uint8Array | string) => {
  mkdirSync(join(dir, family), { recursive: true });
  writeFileSync(join(dir, family, name), bytes);
};

/** Reads a hostile file: it must fail in time, in one InputError naming it, for `cause`. */
async function expectError(family: Family, name: string, bytes: Uint8Array, cause: RegExp, params: Record<string, unknown> = {}) {
  put(family, name, bytes);
  const outcome = await check(family, name, params, `hostile ${name}`);
  expect(outcome && !outcome.ok ? outcome.message : JSON.stringify(outcome), name).toMatch(new RegExp(`^${name.replace(/[.]/g, '\\.')}: ${cause.source}`));
}

// ---------------------------------------------------------------------------------------------
// Seeds: real files, each read unmutated first, then damaged CASES times

interface Seed { name: string; file: string; params: Record<string, unknown> }

const fitsFixtures = join(repoRoot, 'test', 'fixtures', 'fits');
const dicomFixtures = join(repoRoot, 'test', 'fixtures', 'dicom');
const niftiFixtures = join(repoRoot, 'test', 'fixtures', 'nifti');

const seeds: Record<Family, Seed[]> = {
  'source.fits': [
    { name: 'kinds.fits', file: join(fitsFixtures, 'kinds.fits'), params: {} },
    { name: 'kinds-cube.fits', file: join(fitsFixtures, 'kinds.fits'), params: { hdu: 'CUBE', block_rows: 2 } },
    { name: 'kinds-catalog.fits', file: join(fitsFixtures, 'kinds.fits'), params: { hdu: 'CATALOG' } },
    { name: 'kinds-stars.fits', file: join(fitsFixtures, 'kinds.fits'), params: { hdu: 'STARS', header: true } },
    { name: 'tiles-rice.fits', file: join(fitsFixtures, 'tiles.fits'), params: { hdu: 'RICE16' } },
    { name: 'tiles-gzip2.fits', file: join(fitsFixtures, 'tiles.fits'), params: { hdu: 'GZIP2_F32', block_rows: 7 } },
    { name: 'tiles-dither.fits', file: join(fitsFixtures, 'tiles.fits'), params: { hdu: 'DITHER1' } },
    { name: 'eht.uvfits', file: join(repoRoot, 'data', 'astronomy', 'eht_SR1_M87_2017_095_lo_hops_netcal_StokesI.uvfits'), params: { batchRows: 2000 } },
  ],
  'source.nifti': [
    { name: 'be-qform-scaled.nii', file: join(niftiFixtures, 'be-qform-scaled.nii'), params: {} },
    { name: 'nifti2-sform.nii', file: join(niftiFixtures, 'nifti2-sform.nii'), params: {} },
    { name: 'nocode.nii.gz', file: join(niftiFixtures, 'nocode.nii.gz'), params: {} },
    { name: 'seg.nii.gz', file: join(repoRoot, 'data', 'medical', 'totalseg_example_seg.nii.gz'), params: {} },
  ],
  'source.dicom': [
    { name: 'ct-implicit.dcm', file: join(dicomFixtures, 'ct-implicit.dcm'), params: {} },
    { name: 'ct-big.dcm', file: join(dicomFixtures, 'ct-big.dcm'), params: {} },
    { name: 'ct-deflated.dcm', file: join(dicomFixtures, 'ct-deflated.dcm'), params: {} },
    { name: 'ct-rle.dcm', file: join(dicomFixtures, 'ct-rle.dcm'), params: {} },
    { name: 'ct-jpeg-lossless.dcm', file: join(dicomFixtures, 'ct-jpeg-lossless.dcm'), params: {} },
    { name: 'ct8-jpeg-baseline.dcm', file: join(dicomFixtures, 'ct8-jpeg-baseline.dcm'), params: {} },
    { name: 'chest-jp2k.dcm', file: join(repoRoot, 'data', 'medical', 'archive', 'chest-jp2k', 'CT.1.3.12.2.1107.5.1.4.60064.30000022120808113428000016573.dcm'), params: {} },
  ],
};

describe('fuzzed images: sane batches or one InputError naming the file, in bounded time and memory', { timeout: 300_000 }, () => {
  test.each(Object.keys(seeds) as Family[])('%s', async (family) => {
    const rng = prng(SEED ^ (family.length * 0x9e3779b9));
    let damaged = 0;
    for (const seed of seeds[family]) {
      const bytes = new Uint8Array(readFileSync(seed.file));
      put(family, seed.name, bytes);
      const original = await check(family, seed.name, seed.params, `the unmutated seed ${seed.name}`);
      expect(original?.ok && original.rows, seed.name).toBeGreaterThan(0);
      const ext = seed.name.slice(seed.name.indexOf('.'));
      for (let i = 0; i < CASES; i++) {
        const { what, bytes: mutated } = mutate(bytes, rng);
        const name = `${seed.name.slice(0, -ext.length)}-${i}${ext}`;
        put(family, name, mutated);
        const outcome = await check(family, name, seed.params, `case ${i} of ${seed.name}: ${what}`);
        if (outcome && !outcome.ok) damaged++;
        // Damage cannot invent many rows: at most one per byte of the file.
        if (outcome?.ok && original?.ok) expect.soft(outcome.rows, name).toBeLessThanOrEqual(Math.max(2 * original.rows + 2, mutated.length));
      }
      put(family, `empty${ext}`, '');
      const empty = await check(family, `empty${ext}`, seed.params, 'an empty file');
      expect(empty?.ok, `empty${ext}`).toBe(false);
    }
    // Not vacuous: most damage is caught.
    expect(damaged, family).toBeGreaterThan(0);
  });
});

// ---------------------------------------------------------------------------------------------
// Hostile files, case by case

/** A gzip member of `bytes` zero bytes (about a thousandth of that), made in pieces so this process stays small. */
async function gzipZeros(bytes: number): Promise<Uint8Array> {
  const stream = createGzip({ level: 9 });
  const parts: Buffer[] = [];
  stream.on('data', (part: Buffer) => parts.push(part));
  const ended = once(stream, 'end');
  const mib = Buffer.alloc(1 << 20);
  for (let done = 0; done < bytes; done += mib.length) if (!stream.write(mib)) await once(stream, 'drain');
  stream.end();
  await ended;
  return Buffer.concat(parts);
}

const GiB = 1024 ** 3;
let zeros: Uint8Array; // 1 GiB of zeros, gzipped: about 1 MB
beforeAll(async () => {
  zeros = await gzipZeros(GiB);
});

const fitsHeader = (cards: Cards) => headerBytes(cards);
const padded = (data: Uint8Array) => concat(data, new Uint8Array((2880 - (data.length % 2880)) % 2880));

/** A tile-compressed image of one GZIP_1 tile: `side` × `side` pixels of ZBITPIX `bitpix`, the tile's bytes `tile`. */
function gzipTileFits(side: number, bitpix: 8 | 32, tile: Uint8Array): Uint8Array {
  const descriptor = new Uint8Array(8);
  new DataView(descriptor.buffer).setUint32(0, tile.length);
  return concat(emptyPrimary(), fitsHeader([
    ['XTENSION', 'BINTABLE'], ['BITPIX', 8], ['NAXIS', 2], ['NAXIS1', 8], ['NAXIS2', 1], ['PCOUNT', tile.length], ['GCOUNT', 1],
    ['TFIELDS', 1], ['TTYPE1', 'COMPRESSED_DATA'], ['TFORM1', `1PB(${tile.length})`], ['ZIMAGE', true], ['ZBITPIX', bitpix],
    ['ZNAXIS', 2], ['ZNAXIS1', side], ['ZNAXIS2', side], ['ZTILE1', side], ['ZTILE2', side], ['ZCMPTYPE', 'GZIP_1'],
  ]), padded(concat(descriptor, tile)));
}

describe('hostile FITS files: one clear error in seconds, little memory', () => {
  const f: Family = 'source.fits';
  const image = (cards: Cards, data = new Uint8Array(2880)) => concat(emptyPrimary(), fitsHeader([['XTENSION', 'IMAGE'], ...cards, ['PCOUNT', 0], ['GCOUNT', 1]]), data);

  test('an empty file', async () => {
    await expectError(f, 'empty.fits', new Uint8Array(0), /empty file: not a FITS file$/);
  });

  test('an IMAGE extension with a negative NAXIS1 (walked backwards through the file forever)', async () => {
    await expectError(f, 'negative.fits', image([['BITPIX', 16], ['NAXIS', 2], ['NAXIS1', -5], ['NAXIS2', 10]]), /HDU 1: NAXIS1 is -5: it cannot be negative$/);
  });

  test('huge axes in a small file; a BITPIX that is none', async () => {
    await expectError(f, 'huge.fits', image([['BITPIX', -64], ['NAXIS', 2], ['NAXIS1', 1_000_000], ['NAXIS2', 1_000_000]]), /HDU 1: truncated: its data needs bytes \d+-\d+ but the file ends at byte 8640$/);
    await expectError(f, 'bitpix.fits', image([['BITPIX', 12], ['NAXIS', 1], ['NAXIS1', 10]]), /HDU 1: BITPIX 12 is not one of 8, 16, 32, 64, -32, -64$/);
  });

  test('a long header without END (scanned once, up to 1000 blocks), and a short one cut by the end of the file', async () => {
    const cards = fitsHeader(Array.from({ length: 36 * 1200 }, (_, i): Cards[number] => [`KEY${i % 10000}`, i])).subarray(0, 2880 * 1200);
    await expectError(f, 'no-end.fits', concat(fitsHeader([['SIMPLE', true], ['BITPIX', 8], ['NAXIS', 0]]).subarray(0, 240), cards), /HDU 0: no END card in the first 1000 header blocks \(36000 cards\): not a FITS header$/);
    await expectError(f, 'cut-header.fits', cards.subarray(0, 2880 * 3), /HDU 0: truncated header \(no END card before the end of the file\)$/);
  });

  test('a BINTABLE of NAXIS2 = 10^15 rows of NAXIS1 = 0 bytes', async () => {
    const table = concat(emptyPrimary(), fitsHeader([['XTENSION', 'BINTABLE'], ['BITPIX', 8], ['NAXIS', 2], ['NAXIS1', 0], ['NAXIS2', 1e15], ['PCOUNT', 0], ['GCOUNT', 1], ['TFIELDS', 0]]));
    await expectError(f, 'zero-rows.fits', table, /HDU 1: the table declares 1000000000000000 rows of NAXIS1 = 0 bytes: rows that hold nothing$/);
  });

  test('a BINTABLE whose THEAP points past its data', async () => {
    const table = concat(emptyPrimary(), fitsHeader([['XTENSION', 'BINTABLE'], ['BITPIX', 8], ['NAXIS', 2], ['NAXIS1', 8], ['NAXIS2', 1], ['PCOUNT', 8], ['GCOUNT', 1],
      ['TFIELDS', 1], ['TTYPE1', 'V'], ['TFORM1', '1PJ(2)'], ['THEAP', 2 ** 40]]), padded(Uint8Array.of(0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2)));
    await expectError(f, 'theap.fits', table, /HDU 1: THEAP 1099511627776 is outside the heap \(bytes 8-16 of the data\)$/);
  });

  test('an image of no pixels with a 2^40-row axis, read in blocks of one row: no rows, at once', async () => {
    put(f, 'no-pixels.fits', image([['BITPIX', 16], ['NAXIS', 2], ['NAXIS1', 0], ['NAXIS2', 2 ** 40]], new Uint8Array(0)));
    const outcome = await check(f, 'no-pixels.fits', { hdu: 1, block_rows: 1 }, 'no pixels');
    expect(outcome?.ok && outcome.chunks).toBe(1);
  });

  test('one GZIP tile of 1 MB declaring a 16384 × 16384 image: over the budget before inflating', async () => {
    await expectError(f, 'tile-huge.fits', gzipTileFits(16384, 8, zeros), /HDU 1: decompressing the image needs \d+ MiB in memory, more than this task's budget of 512 MiB \(read it in blocks with block_rows/);
  });

  test('one GZIP tile of 100 × 100 pixels whose stream inflates to 1 GiB: stopped at the tile\'s 40000 bytes', async () => {
    await expectError(f, 'tile-bomb.fits', gzipTileFits(100, 32, zeros), /HDU 1: GZIP_1 tile: inflates to more than its 10000 pixels of 4 bytes$/);
  });
});

describe('hostile NIfTI files: one clear error in seconds, little memory', () => {
  const f: Family = 'source.nifti';
  const identity = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];
  const header = (dims: number[], datatype: 'uint8' | 'int16' = 'uint8') => niftiHeaderBytes(dims, datatype, identity);

  test('1 MB of .nii.gz declaring a 1 GiB volume (the gzip could hold it): over the budget before inflating', async () => {
    await expectError(f, 'gib.nii.gz', concat(gzipSync(header([1024, 1024, 1024])), zeros), /the volume needs 5121 MiB in memory, more than this task's budget of 512 MiB/);
  });

  test('10 KB of .nii.gz declaring a 1 GiB volume: more than its gzip can inflate to', async () => {
    await expectError(f, 'small.nii.gz', gzipSync(concat(header([1024, 1024, 1024]), new Uint8Array(10_000).map((_, i) => i))), /the header declares 1073742176 bytes of image, more than \d+ bytes of gzip can inflate to$/);
  });

  test('a 4 × 4 × 4 volume followed by 1 GiB of zeros in its gzip: read, inflating only what the header declares', async () => {
    put(f, 'tail.nii.gz', concat(gzipSync(concat(header([4, 4, 4]), new Uint8Array(64).fill(7))), zeros));
    const outcome = await check(f, 'tail.nii.gz', {}, 'a gzip longer than its volume');
    expect(outcome?.ok && outcome.rows).toBe(1);
  });

  test('a .nii declaring 2000³ voxels; a negative dim; dim[0] of 2^40 (NIfTI-2); vox_offset NaN', async () => {
    await expectError(f, 'huge.nii', concat(header([2000, 2000, 2000]), new Uint8Array(100)), /the header promises 8000000000 voxels of 1 bytes from byte 352; the file ends at 452$/);
    const negative = header([4, -3, 4]);
    await expectError(f, 'negative.nii', concat(negative, new Uint8Array(64)), /dim\[2\] is -3: every dimension holds at least one voxel$/);
    const nan = header([4, 4, 4]);
    new DataView(nan.buffer).setFloat32(108, NaN, true);
    await expectError(f, 'nan-offset.nii', concat(nan, new Uint8Array(64)), /vox_offset is NaN: not a byte offset$/);
    const two = new Uint8Array(readFileSync(join(niftiFixtures, 'nifti2-sform.nii')));
    new DataView(two.buffer).setBigInt64(16, 2n ** 40n, true);
    await expectError(f, 'rank.nii', two, /dim\[0\] is 1099511627776: a NIfTI image has 1 to 7 dimensions$/);
  });
});

/** Where the value of the (group, element) tag starts in an implicit VR little endian file. */
function implicitValue(bytes: Uint8Array, group: number, element: number): number {
  const tag = Uint8Array.of(group & 255, group >> 8, element & 255, element >> 8);
  const at = Buffer.from(bytes).indexOf(tag, 132);
  expect(at).toBeGreaterThan(0);
  return at + 8;
}

describe('hostile DICOM files: one clear error in seconds, little memory', () => {
  const f: Family = 'source.dicom';
  const implicit = () => new Uint8Array(readFileSync(join(dicomFixtures, 'ct-implicit.dcm')));

  test('a deflated data set followed by 1 GiB of deflated zeros: inflating stops at an eighth of the budget', async () => {
    const original = new Uint8Array(readFileSync(join(dicomFixtures, 'ct-deflated.dcm')));
    const bodyStart = 144 + new DataView(original.buffer).getUint32(140, true); // after the meta group, by its length
    const dataset = inflateRawSync(original.subarray(bodyStart));
    // Raw deflate blocks join: the data set's (not final, flushed to a byte), then the zeros' own.
    const bomb = concat(original.subarray(0, bodyStart), deflateRawSync(dataset, { finishFlush: constants.Z_SYNC_FLUSH }), zeros.subarray(10, -8));
    await expectError(f, 'deflate-bomb.dcm', bomb, /the deflated data set inflates to more than 67108864 bytes, more than an image this task's memory budget can hold$/);
  });

  test('Rows and Columns of 65535 over 32 KiB of pixel data', async () => {
    const bytes = implicit();
    for (const element of [0x0010, 0x0011]) new DataView(bytes.buffer).setUint16(implicitValue(bytes, 0x0028, element), 65535, true);
    await expectError(f, 'huge-rows.dcm', bytes, /PixelData holds 32768 bytes; 1 frame\(s\) of 65535 × 65535 × 16 bits need 8589672450$/);
  });

  test('a JPEG frame header declaring 60000 × 60000, and a JPEG stream zeroed: each a sentence, not a bare number', async () => {
    const original = new Uint8Array(readFileSync(join(dicomFixtures, 'ct8-jpeg-baseline.dcm')));
    const sof = Buffer.from(original).indexOf(Uint8Array.of(0xff, 0xc0), 132);
    const huge = original.slice();
    new DataView(huge.buffer).setUint16(sof + 5, 60000);
    new DataView(huge.buffer).setUint16(sof + 7, 60000);
    await expectError(f, 'jpeg-huge.dcm', huge, /the JPEG baseline stream is 60000 × 60000 × 1; the header says 128 × 128 × 1$/);
    const zeroed = original.slice();
    zeroed.fill(0, sof + 400, sof + 800);
    await expectError(f, 'jpeg-corrupt.dcm', zeroed, /the JPEG baseline stream is damaged: the decoder stopped at an error in it$/);
  });

  test('sequences nested 10000 deep (a stack overflow, were they followed)', async () => {
    const bytes = implicit();
    const body = 144 + new DataView(bytes.buffer).getUint32(140, true); // the data set, after the meta group
    const level = Uint8Array.of(0x08, 0x00, 0x15, 0x11, 0xff, 0xff, 0xff, 0xff, 0xfe, 0xff, 0x00, 0xe0, 0xff, 0xff, 0xff, 0xff);
    const nested = concat(bytes.subarray(0, body), ...Array.from({ length: 10_000 }, () => level));
    await expectError(f, 'nested.dcm', nested, /sequence \(0008,1115\) at byte \d+ is nested more than 64 deep$/);
  });
});
