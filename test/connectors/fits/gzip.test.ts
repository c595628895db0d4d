// Gzip-compressed FITS (connectors/fits/gzip.ts): sunpy's go1520120601.fits.gz read as astropy
// reads it (REFERENCE.json kind fits-gzip; headers and values also against live astropy when
// /usr/bin/python3 has it), the same as the file gunzipped, told by magic bytes whatever its name;
// and hostile streams: cut short, damaged, a header declaring more than the stream holds or can hold.
import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { RecordBatch } from 'apache-arrow';
import { describe, expect, test } from 'vitest';
import { listHdus } from '../../../connectors/fits/file.ts';
import { GzipBytes, maybeGunzip } from '../../../src/io/gzip-bytes.ts';
import { fitsSource } from '../../../connectors/fits/source.ts';
import { headerBytes } from '../../../connectors/fits/write.ts';
import { fileBytes } from '../../../src/io/byte-reader.ts';
import { scratchDir, sharedData } from '../../helpers.ts';
import { expectStats, type Stats } from '../../reference-stats.ts';
import { readSource } from '../stage-harness.ts';

const data = sharedData('.');
const name = 'astronomy/sunpy_go1520120601.fits.gz';
const reference = data ? (JSON.parse(readFileSync(join(data, 'REFERENCE.json'), 'utf8')) as Record<string, { hdus: { index: number; cards: number; rows?: number; columns?: { name: string; unit: string | null; stats: Stats }[] }[] }>)[name] : undefined;
const scratch = scratchDir('quiver-fits-gz-');

const flat = (batches: RecordBatch[], column: string) => batches.flatMap((b) => [...b.getChild(column)!].flatMap((v) => (typeof v === 'number' ? [v] : [...(v as Iterable<number>)])));

/** The HDUs' headers as source.fits gives them (cards as JSON). */
async function headersOf(path: string): Promise<Record<string, unknown>[]> {
  const bytes = await maybeGunzip(await fileBytes(path, path), 0, true);
  try {
    return (await listHdus(bytes)).map((h) => h.header.toJSON());
  } finally {
    await bytes.close();
  }
}

describe.skipIf(!data)('source.fits on a gzip-compressed file (sunpy go1520120601.fits.gz)', () => {
  const path = data ? join(data, name) : '';

  test('every HDU as astropy reads it (REFERENCE.json): cards, rows, column units and statistics', async () => {
    const handle = await maybeGunzip(await fileBytes(path, name), 0, true);
    const hdus = await listHdus(handle).finally(() => handle.close());
    expect(hdus.map((h) => [h.index, h.name, h.header.cards.length])).toEqual(reference!.hdus.map((h, i) => [h.index, ['PRIMARY', 'EDGES', 'FLUXES', 'STATUS'][i], h.cards]));
    for (const ref of reference!.hdus.filter((h) => h.columns)) {
      const { schema, partitions: [{ batches }] } = await readSource(fitsSource, { path, hdu: ref.index }, '.');
      expect(batches.reduce((n, b) => n + b.numRows, 0)).toBe(ref.rows);
      for (const column of ref.columns!) {
        if (column.unit) expect(schema.fields.find((f) => f.name === column.name)!.metadata.get('unit')).toBe(column.unit);
        expectStats(flat(batches, column.name), column.stats, `HDU ${ref.index} ${column.name}`);
      }
    }
  });

  test('first values and header cards as astropy 5.2.1 gives them (fixed here; live astropy below)', async () => {
    // Computed with /usr/bin/python3, astropy 5.2.1: fits.open(file)[2].data['TIME'][0][:3],
    // ['FLUX'][0][:2], [1].data['EDGES'][0], [0].header['DATE-OBS'], ['TELESCOP'].
    const { partitions: [{ batches }] } = await readSource(fitsSource, { path, hdu: 'FLUXES' }, '.');
    const time = flat(batches, 'TIME');
    [-0.91100013256073, 1.1349998712539673, 3.184999942779541].forEach((v, i) => expect(time[i]).toBe(v));
    expect(flat(batches, 'FLUX').slice(0, 4)).toEqual([8.235400059675158e-07, 8.288799868694241e-09, 8.235400059675158e-07, 7.1742998208890185e-09].map(Math.fround));
    const edges = await readSource(fitsSource, { path, hdu: 'EDGES' }, '.');
    expect(flat(edges.partitions[0].batches, 'EDGES')).toEqual([1, 8, 0.5, 4]);
    const [primary] = await headersOf(path);
    expect([primary['DATE-OBS'], primary.TELESCOP]).toEqual(['01/06/2012', 'GOES 15']);
  });

  test.skipIf(spawnSync('/usr/bin/python3', ['-c', 'import astropy']).status !== 0)('headers and columns equal live astropy', async () => {
    const script = `
import json, sys
from astropy.io import fits
out = []
for h in fits.open(sys.argv[1]):
    cards = {c.keyword: c.value for c in h.header.cards if c.keyword not in ('', 'HISTORY', 'COMMENT')}
    cols = {c.name: h.data[c.name].ravel().tolist()[:50] for c in h.columns} if hasattr(h, 'columns') else {}
    out.append({'cards': {k: (v if isinstance(v, (bool, int, float, str)) else str(v)) for k, v in cards.items()}, 'cols': cols})
print(json.dumps(out))`;
    const run = spawnSync('/usr/bin/python3', ['-c', script, path], { encoding: 'utf8', maxBuffer: 64 << 20 });
    expect(run.status, run.stderr).toBe(0);
    const astropy = JSON.parse(run.stdout) as { cards: Record<string, unknown>; cols: Record<string, number[]> }[];
    const ours = await headersOf(path);
    expect(ours.length).toBe(astropy.length);
    astropy.forEach((hdu, i) => {
      for (const [k, v] of Object.entries(hdu.cards)) expect(ours[i][k], `HDU ${i} ${k}`).toEqual(typeof v === 'string' ? v.trimEnd() : v);
    });
    for (const [i, hdu] of astropy.entries()) {
      if (Object.keys(hdu.cols).length === 0) continue;
      const { partitions: [{ batches }] } = await readSource(fitsSource, { path, hdu: i }, '.');
      for (const [column, values] of Object.entries(hdu.cols)) {
        const got = flat(batches, column).slice(0, values.length);
        // EDGES is 2×2 in astropy's row-major; quiver keeps the stored order, which is the same.
        expect(got.map((v, k) => Math.abs(v - values[k]) <= 1e-6 * Math.abs(values[k])), `HDU ${i} ${column}`).toEqual(values.map(() => true));
      }
    }
  });

  test('the same as the file gunzipped, and told by its magic bytes under any name', async () => {
    const plain = join(scratch, 'goes.fits');
    writeFileSync(plain, gunzipSync(readFileSync(path)));
    const renamed = join(scratch, 'goes-really-gzipped.fits');
    copyFileSync(path, renamed);
    expect(await headersOf(renamed)).toEqual(await headersOf(plain));
    const a = await readSource(fitsSource, { path: renamed, hdu: 2, batchRows: 1 }, '.');
    const b = await readSource(fitsSource, { path: plain, hdu: 2 }, '.');
    expect(flat(a.partitions[0].batches, 'FLUX')).toEqual(flat(b.partitions[0].batches, 'FLUX'));
  });
});

describe('hostile gzip streams: one clear error naming the file, memory bounded', () => {
  /** A FITS image HDU of `shape` (BITPIX 16) with its data, gzipped. */
  const image = (shape: number[], data = new Uint8Array(2 * shape.reduce((a, b) => a * b, 1))) => {
    const header = headerBytes([['SIMPLE', true], ['BITPIX', 16], ['NAXIS', shape.length], ...shape.map((n, i) => [`NAXIS${i + 1}`, n] as [string, number])]);
    const padded = new Uint8Array(Math.ceil(data.length / 2880) * 2880);
    padded.set(data);
    return Buffer.concat([header, padded]);
  };
  const write = (file: string, bytes: Uint8Array) => {
    const path = join(scratch, file);
    writeFileSync(path, bytes);
    return path;
  };

  test('a small image reads back, from a gzipped file named .fits', async () => {
    const values = new Uint8Array(2 * 6);
    new DataView(values.buffer).setInt16(2, 300);
    const path = write('small.fits', gzipSync(image([3, 2], values)));
    const { partitions: [{ batches }] } = await readSource(fitsSource, { path }, '.');
    expect(flat(batches, 'data')).toEqual([0, 300, 0, 0, 0, 0]);
  });

  test('a stream cut short: truncated, naming the file', async () => {
    const whole = gzipSync(image([100, 100], new Uint8Array(20_000).map((_, i) => i * 7)));
    const path = write('cut.fits.gz', whole.subarray(0, whole.length / 2));
    await expect(readSource(fitsSource, { path }, '.')).rejects.toThrow(/cut\.fits\.gz.*(damaged or cut short|truncated)/);
  });

  test('damaged bytes: the gzip stream is damaged, naming the file', async () => {
    const whole = Buffer.from(gzipSync(image([50, 50])));
    whole.fill(0xff, 12, 40);
    const path = write('damaged.fits.gz', whole);
    await expect(readSource(fitsSource, { path }, '.')).rejects.toThrow(/damaged\.fits\.gz.*(gzip stream is damaged|truncated)/);
  });

  test('a header declaring more data than the stream holds: truncated, with what it inflates to', async () => {
    const header = headerBytes([['SIMPLE', true], ['BITPIX', 16], ['NAXIS', 2], ['NAXIS1', 200], ['NAXIS2', 200]]);
    const path = write('short.fits.gz', gzipSync(Buffer.concat([header, new Uint8Array(2880)])));
    await expect(readSource(fitsSource, { path }, '.')).rejects.toThrow(/short\.fits\.gz: HDU 0: truncated: its data needs bytes 2880-82880 but the gzip stream inflates to 5760 bytes/);
  });

  test('a header declaring more than any gzip stream of its size could hold fails before inflating it', async () => {
    const header = headerBytes([['SIMPLE', true], ['BITPIX', 64], ['NAXIS', 3], ['NAXIS1', 100_000], ['NAXIS2', 100_000], ['NAXIS3', 100_000]]);
    const path = write('bomb-header.fits.gz', gzipSync(header));
    await expect(readSource(fitsSource, { path }, '.')).rejects.toThrow(/bomb-header\.fits\.gz: HDU 0: truncated: .*inflates to at most .*deflate's best ratio/);
  });

  test('a gzip bomb (zeros past the data its header declares) is not inflated past what is read', async () => {
    // 64 MiB of zeros after a 10×10 image: discovery stops at the end of the declared data plus a peek.
    const bomb = Buffer.concat([image([10, 10]), Buffer.alloc(64 << 20, 0)]);
    const path = write('bomb.fits.gz', gzipSync(bomb, { level: 9 }));
    const reader = new GzipBytes(await fileBytes(path, 'bomb.fits.gz'), 0, true);
    try {
      const hdus = await listHdus(reader);
      expect(hdus.length).toBe(1);
      expect(reader.size).toBeGreaterThan(64 << 20); // the stream's end never reached: size still the bound
    } finally {
      await reader.close();
    }
  });

  test('a read past what the task may hold is refused before it is inflated', async () => {
    const path = write('big.fits.gz', gzipSync(image([1024, 1024])));
    const before = process.env.QUIVER_TASK_MEMORY_MB;
    process.env.QUIVER_TASK_MEMORY_MB = '1';
    try {
      await expect(readSource(fitsSource, { path }, '.')).rejects.toThrow(/big\.fits\.gz.*more than the \d+ bytes one task may hold/);
    } finally {
      if (before === undefined) delete process.env.QUIVER_TASK_MEMORY_MB;
      else process.env.QUIVER_TASK_MEMORY_MB = before;
    }
  });
});
