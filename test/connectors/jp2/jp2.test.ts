// source.jp2 against Pillow (OpenJPEG): the Helioviewer AIA 193 (4096²) and LASCO C3 (1024²) images
// as REFERENCE.json records them, reduced levels against Pillow's `reduce` (fixed figures below,
// and every pixel against live Pillow when /usr/bin/python3 has it), the XML box's FITS header, and
// hostile files: truncated, box lengths past the end, absurd dimensions.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RecordBatch } from 'apache-arrow';
import { describe, expect, test } from 'vitest';
import { jp2Source } from '../../../connectors/jp2/source.ts';
import { scratchDir, sharedData } from '../../helpers.ts';
import { expectStats, type Stats } from '../../reference-stats.ts';
import { readSource } from '../stage-harness.ts';

const data = sharedData('.');
const reference = data ? JSON.parse(readFileSync(join(data, 'REFERENCE.json'), 'utf8')) as Record<string, { data: Stats; first_pixels: number[]; middle_row_first_pixels: number[] }> : {};
const aia = 'astronomy/sunpy_aia_193_20130624.jp2';
const lasco = 'astronomy/sunpy_lasco_c3_20130513.jp2';
const hasPillow = spawnSync('/usr/bin/python3', ['-c', 'import PIL, numpy']).status === 0;
const scratch = scratchDir('quiver-jp2-');

const pixels = (batches: RecordBatch[]) => batches[0].getChild('data')!.get(0)!.toArray() as Float32Array;
const shapeOf = (schema: { fields: { name: string; metadata: Map<string, string> }[] }) => JSON.parse(schema.fields.find((f) => f.name === 'data')!.metadata.get('ARROW:extension:metadata')!).shape as number[];
const headerOf = (batches: RecordBatch[]) => JSON.parse(String(batches[0].getChild('header')!.get(0))) as Record<string, unknown>;

describe.skipIf(!data)('source.jp2 against Pillow', () => {
  for (const name of [lasco, aia]) {
    test(`${name}: every pixel's statistics as REFERENCE.json (Pillow) has them`, async () => {
      const { schema, partitions: [{ batches }] } = await readSource(jp2Source, { path: join(data!, name), rows: 'image' }, '.');
      const ref = reference[name];
      expect(shapeOf(schema)).toEqual(ref.data.shape);
      const values = pixels(batches);
      expectStats(values, ref.data, name);
      expect(Array.from(values.subarray(0, 5))).toEqual(ref.first_pixels);
      const middle = (ref.data.shape[0] / 2) * ref.data.shape[1];
      expect(Array.from(values.subarray(middle, middle + 5))).toEqual(ref.middle_row_first_pixels);
    });
  }

  test('reduce decodes a lower resolution level, as Pillow reduce does (figures from Pillow 9.4)', async () => {
    // /usr/bin/python3, Pillow 9.4.0: im = Image.open(f); im.reduce = n; im.load(); np.asarray(im).
    for (const [name, reduce, size, sum, middle] of [[aia, 2, 1024, 78309659, [107, 110, 112, 108, 102]], [lasco, 1, 512, 19200497, [100, 87, 94, 90, 93]]] as const) {
      const { schema, partitions: [{ batches }] } = await readSource(jp2Source, { path: join(data!, name), reduce, rows: 'image' }, '.');
      expect(shapeOf(schema)).toEqual([size, size]);
      const values = pixels(batches);
      expect(values.reduce((a, b) => a + b, 0)).toBe(sum);
      const at = (size / 2) * size + 500;
      expect(Array.from(values.subarray(at, at + 5))).toEqual(middle);
    }
  });

  test.skipIf(!hasPillow)('every pixel equals live Pillow, full and reduced', async () => {
    for (const [name, reduce] of [[lasco, 0], [lasco, 2], [aia, 3]] as const) {
      const path = join(data!, name);
      const py = spawnSync('/usr/bin/python3', ['-c', `import sys, numpy as np
from PIL import Image
im = Image.open(sys.argv[1]); im.reduce = int(sys.argv[2]); im.load()
sys.stdout.buffer.write(np.asarray(im).astype('<f4').tobytes())`, path, String(reduce)], { maxBuffer: 256 << 20 });
      expect(py.status, String(py.stderr)).toBe(0);
      const pillow = new Float32Array(py.stdout.buffer.slice(py.stdout.byteOffset, py.stdout.byteOffset + py.stdout.byteLength));
      const { partitions: [{ batches }] } = await readSource(jp2Source, { path, reduce, rows: 'image' }, '.');
      const ours = pixels(batches);
      expect(ours.length).toBe(pillow.length);
      expect(ours.every((v, i) => v === pillow[i]), `${name} reduce ${reduce}`).toBe(true);
    }
  });

  test('the FITS header from the XML box, made true of the grid decoded; rows bottom-up by default', async () => {
    const full = await readSource(jp2Source, { path: join(data!, aia), reduce: 2 }, '.');
    const h = headerOf(full.partitions[0].batches);
    expect([h.WAVELNTH, h.TELESCOP, h['DATE-OBS'], h.CTYPE1, h.EXPTIME]).toEqual([193, 'SDO', '2013-06-24T17:31:30.84', 'HPLN-TAN', 1.999637]);
    expect([h.NAXIS1, h.NAXIS2, h.CDELT1, h.CRPIX1, h.JP2_REDUCE]).toEqual([1024, 1024, 2.4, (2048.5 - 0.5) / 4 + 0.5, 2]);
    const flipped = pixels(full.partitions[0].batches);
    const image = pixels((await readSource(jp2Source, { path: join(data!, aia), reduce: 2, rows: 'image' }, '.')).partitions[0].batches);
    expect(Array.from(flipped.subarray(0, 1024))).toEqual(Array.from(image.subarray(1023 * 1024)));
  });
});

describe.skipIf(!data)('hostile JP2 files: one clear error naming the file', () => {
  const original = data ? readFileSync(join(data, lasco)) : Buffer.alloc(0);
  const write = (name: string, bytes: Uint8Array) => {
    writeFileSync(join(scratch, name), bytes);
    return join(scratch, name);
  };
  const jp2cAt = () => original.indexOf(Buffer.from('jp2c')) - 4;

  test('a truncated file whose jp2c box runs to the end (length 0, as this one): no EOC marker', async () => {
    const path = write('cut.jp2', original.subarray(0, 200_000));
    await expect(readSource(jp2Source, { path }, '.')).rejects.toThrow(/cut\.jp2: the codestream does not end in its EOC marker: the file is truncated/);
  });

  test('a truncated file whose jp2c box says its length: the box runs past the end', async () => {
    const bytes = Buffer.from(original.subarray(0, 200_000));
    bytes.writeUInt32BE(original.length - jp2cAt(), jp2cAt());
    const path = write('box-past-end.jp2', bytes);
    await expect(readSource(jp2Source, { path }, '.')).rejects.toThrow(/box-past-end\.jp2: box 'jp2c' at byte \d+ says it is \d+ bytes, past the end of the file/);
  });

  test('a box length past the end of its parent', async () => {
    const bytes = Buffer.from(original);
    bytes.writeUInt32BE(0x7fffffff, original.indexOf(Buffer.from('ihdr')) - 4);
    const path = write('ihdr.jp2', bytes);
    await expect(readSource(jp2Source, { path }, '.')).rejects.toThrow(/ihdr\.jp2: box 'ihdr' at byte \d+ says it is 2147483647 bytes, past the end of the jp2h box/);
  });

  test('absurd dimensions: refused before the decoder allocates', async () => {
    const bytes = Buffer.from(original);
    const ihdr = original.indexOf(Buffer.from('ihdr')) + 4;
    bytes.writeUInt32BE(1_000_000, ihdr);
    bytes.writeUInt32BE(1_000_000, ihdr + 4);
    const cs = jp2cAt() + 8;
    bytes.writeUInt32BE(1_000_000, cs + 8);
    bytes.writeUInt32BE(1_000_000, cs + 12);
    const path = write('huge.jp2', bytes);
    await expect(readSource(jp2Source, { path }, '.')).rejects.toThrow(/huge\.jp2: decoding 1000000 × 1000000 × 1 needs \d+ MiB in memory, more than this task's budget/);
    const mismatch = Buffer.from(original);
    mismatch.writeUInt32BE(5000, ihdr);
    await expect(readSource(jp2Source, { path: write('mismatch.jp2', mismatch) }, '.')).rejects.toThrow(/mismatch\.jp2: the codestream is 1024 × 1024 × 1; the header box says 1024 × 5000 × 1/);
  });

  test('not a JP2 file, and a reduce deeper than the codestream has', async () => {
    await expect(readSource(jp2Source, { path: write('text.jp2', Buffer.from('hello, not an image at all')) }, '.')).rejects.toThrow('text.jp2: not a JP2 file: it does not start with the JPEG 2000 signature box');
    await expect(readSource(jp2Source, { path: join(data!, lasco), reduce: 30 }, '.')).rejects.toThrow(/sunpy_lasco_c3_20130513\.jp2: reduce 30: the codestream has \d+ resolution levels/);
  });
});
