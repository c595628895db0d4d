// source.fits against astropy: every HDU of every FITS file in ../shared/data/astronomy read as
// REFERENCE.json records it (astropy's card counts, shapes, and per-array statistics and first
// values), to 1e-6 relative; plus headers, checksums and damaged files made here.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileBytes } from '../../../src/io/byte-reader.ts';
import { join } from 'node:path';
import { Field, Schema, TimestampMillisecond, Type, type RecordBatch } from 'apache-arrow';
import { describe, expect, test } from 'vitest';
import { fitsSink } from '../../../connectors/fits/sink.ts';
import { keywords } from '../../../src/stages/astro/keywords.ts';
import { makeBatch } from '../../../src/arrow/batch.ts';
import { fitsSource } from '../../../connectors/fits/source.ts';
import { listHdus } from '../../../connectors/fits/file.ts';
import { parseHeader } from '../../../connectors/fits/header.ts';
import { ditherRandoms, decodeTile } from '../../../connectors/fits/tile-codecs.ts';
import { encodeChecksum, headerBytes } from '../../../connectors/fits/write.ts';
import { repoRoot, scratchDir, sharedData } from '../../helpers.ts';
import { expectStats, type Stats } from '../../reference-stats.ts';
import { readSource, writeSink } from '../stage-harness.ts';

const data = sharedData('.');
const reference = data ? JSON.parse(readFileSync(join(data, 'REFERENCE.json'), 'utf8')) as Record<string, { kind: string; hdus: HduReference[] }> : {};
const fitsFiles = Object.keys(reference).filter((k) => reference[k].kind === 'fits');

interface HduReference {
  index: number; type: string; name: string; cards: number; bitpix: number; data?: Stats; first_pixels?: number[]; groups?: number; params?: string[];
  rows?: number; columns?: { name: string; format: string; unit: string | null; first?: string; stats?: Stats }[];
}

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-6 * Math.max(Math.abs(b), 1e-30);

/** A column's values flattened to numbers (lists, tensors and scalars alike). */
function flat(batches: RecordBatch[], name: string): number[] {
  const out: number[] = [];
  const walk = (v: unknown) => {
    if (v === null) out.push(NaN);
    else if (typeof v === 'object' && v !== null && Symbol.iterator in v) for (const x of v as Iterable<unknown>) walk(x);
    else out.push(Number(v));
  };
  for (const b of batches) for (const v of b.getChild(name)!) walk(v);
  return out;
}

/** A column's rows as plain values (bigints as strings, lists as arrays), for comparing. */
const flatColumn = (batches: RecordBatch[], name: string) => batches.flatMap((b) => [...b.getChild(name)!].map(function plain(v: unknown): unknown {
  if (typeof v === 'bigint') return String(v);
  if (v !== null && typeof v === 'object' && Symbol.iterator in v) return [...(v as Iterable<unknown>)].map(plain);
  return typeof v === 'number' && Number.isNaN(v) ? 'NaN' : v;
}));

describe.skipIf(!data)('source.fits against astropy (REFERENCE.json)', () => {
  for (const file of fitsFiles) {
    test(file, async () => {
      const path = join(data!, file);
      const handle = await fileBytes(path, file);
      const hdus = await listHdus(handle).finally(() => handle.close());
      expect(hdus.map((h) => h.index)).toEqual(reference[file].hdus.map((h) => h.index));
      for (const ref of reference[file].hdus) {
        const hdu = hdus[ref.index];
        if (ref.type !== 'CompImageHDU') expect(hdu.header.cards.length, `HDU ${ref.index} cards`).toBe(ref.cards);
        if (!ref.data && !ref.columns) continue;
        const { schema, partitions: [{ batches }] } = await readSource(fitsSource, { path, hdu: ref.index }, '.');
        if (ref.data) {
          const values = flat(batches, 'data');
          const rows = batches.reduce((n, b) => n + b.numRows, 0);
          const shape = JSON.parse(schema.fields.find((f) => f.name === 'data')!.metadata.get('ARROW:extension:metadata')!).shape;
          expect(ref.groups ? [rows, ...shape] : shape).toEqual(ref.data.shape);
          expectStats(values, ref.data, `HDU ${ref.index} data`);
          ref.first_pixels?.forEach((v, i) => expect(close(values[i], v), `pixel ${i}: ${values[i]} vs ${v}`).toBe(true));
          if (ref.params) expect(schema.fields.map((f) => f.name).slice(0, -1)).toEqual([...new Set(ref.params)]);
        }
        for (const column of ref.columns ?? []) {
          const field = schema.fields.find((f) => f.name === column.name)!;
          expect(field, column.name).toBeDefined();
          if (column.unit) expect(field.metadata.get('unit')).toBe(column.unit);
          if (column.first !== undefined) {
            const first = batches[0].getChild(column.name)!.get(0);
            // An array of strings: its first. Trailing blanks do not count (astropy strips them too;
            // REFERENCE.json kept them for one array column, CONTROL_TAGS).
            expect(typeof first === 'string' ? first : String(first.get(0))).toBe(column.first.trimEnd());
          }
          if (column.stats && field.type.typeId !== Type.Utf8) expectStats(flat(batches, column.name), column.stats, `HDU ${ref.index} ${column.name}`);
        }
        expect(batches.reduce((n, b) => n + b.numRows, 0)).toBe(ref.rows ?? ref.groups ?? 1);
      }
    });
  }
});

describe('every HDU and column kind, against astropy (test/fixtures/fits/kinds.fits, written by astropy)', () => {
  const fixtures = join(repoRoot, 'test', 'fixtures', 'fits');
  const expected = JSON.parse(readFileSync(join(fixtures, 'kinds.json'), 'utf8')) as Record<string, { name: string; shape?: number[]; values?: unknown[]; columns?: Record<string, { unit: string; values: unknown[] }> }>;
  /** Nested values as a flat list: numbers (NaN for null), strings, booleans. */
  const flatten = (v: unknown): unknown[] => {
    if (v === null || v === undefined) return [NaN];
    if (typeof v === 'bigint') return [Number(v)];
    if (typeof v === 'string' || typeof v === 'boolean' || typeof v === 'number') return [v];
    return [...(v as Iterable<unknown>)].flatMap(flatten);
  };
  const same = (a: unknown, b: unknown) => (typeof a === 'number' && typeof b === 'number' ? (Number.isNaN(a) && Number.isNaN(b)) || Math.abs(a - b) <= 1e-6 * Math.abs(b) : a === b);

  for (const [index, hdu] of Object.entries(expected)) {
    test(`HDU ${index} (${hdu.name})`, async () => {
      const { schema, partitions: [{ batches }] } = await readSource(fitsSource, { path: 'kinds.fits', hdu: hdu.name }, fixtures);
      if (hdu.values) {
        const shape = JSON.parse(schema.fields.find((f) => f.name === 'data')!.metadata.get('ARROW:extension:metadata')!).shape;
        expect(shape).toEqual(hdu.shape);
        const got = flat(batches, 'data');
        hdu.values.forEach((v, i) => expect(same(got[i], v === null ? NaN : v), `pixel ${i}: ${got[i]} vs ${v}`).toBe(true));
        return;
      }
      for (const [name, column] of Object.entries(hdu.columns!)) {
        if (column.unit) expect(schema.fields.find((f) => f.name === name)!.metadata.get('unit')).toBe(column.unit);
        const got = batches.flatMap((b) => [...b.getChild(name)!].map((v) => flatten(v)));
        expect(got.length, name).toBe(column.values.length);
        column.values.forEach((v, r) => {
          // astropy's FITS_rec leaves TNULL values as they are stored; quiver makes them null.
          const want = flatten(name === 'COUNTS' && v === -999 ? null : v);
          expect(got[r].length, `${name} row ${r}`).toBe(want.length);
          want.forEach((w, k) => expect(same(got[r][k], w), `${name} row ${r}[${k}]: ${String(got[r][k])} vs ${String(w)}`).toBe(true));
        });
      }
    });
  }

  test('a string value takes the HDU by EXTNAME; an unknown name lists the names there are', async () => {
    await expect(readSource(fitsSource, { path: 'kinds.fits', hdu: 'NOPE' }, fixtures)).rejects.toThrow("has no HDU named 'NOPE' (names: PRIMARY, BLANKED, CUBE, INT64, CATALOG, STARS)");
  });
});

describe('tile-compressed images of every codec, against astropy (test/fixtures/fits/tiles.fits, written by astropy)', () => {
  const fixtures = join(repoRoot, 'test', 'fixtures', 'fits');
  const expected = JSON.parse(readFileSync(join(fixtures, 'tiles.json'), 'utf8')) as Record<string, { values: (number | null)[]; shape: number[]; header: Record<string, unknown> }>;
  // 30 × 40 pixels in tiles of 7 rows (the last one short): RICE_1 of 8/16/32-bit integers,
  // GZIP_1/GZIP_2, lossless floats, and floats quantised without dither and with both dithers.
  for (const [name, hdu] of Object.entries(expected)) {
    test(`${name}: ${hdu.header.ZCMPTYPE}${hdu.header.ZQUANTIZ ? `, ${hdu.header.ZQUANTIZ}` : ''}, BITPIX ${hdu.header.ZBITPIX}: every pixel exactly`, async () => {
      const { partitions: [{ batches }] } = await readSource(fitsSource, { path: 'tiles.fits', hdu: name }, fixtures);
      const got = flat(batches, 'data');
      expect(got.length).toBe(30 * 40);
      const wrong = hdu.values.flatMap((v, i) => ((v === null ? Number.isNaN(got[i]) : got[i] === v) ? [] : [`${i}: ${got[i]} vs ${v}`]));
      expect(wrong.slice(0, 5)).toEqual([]);
    });
  }

  test('block_rows on compressed images decodes only the tiles of each block; the blocks make up the image', async () => {
    for (const name of ['DITHER1', 'GZIP2_32']) {
      const whole = flat((await readSource(fitsSource, { path: 'tiles.fits', hdu: name }, fixtures)).partitions[0].batches, 'data');
      const blocks = (await readSource(fitsSource, { path: 'tiles.fits', hdu: name, block_rows: 5 }, fixtures)).partitions[0];
      expect(blocks.chunks).toBe(6); // 30 rows in blocks of 5, across tiles of 7 rows
      const joined = flat(blocks.batches, 'data');
      expect(joined.map((v) => (Number.isNaN(v) ? 'NaN' : v))).toEqual(whole.map((v) => (Number.isNaN(v) ? 'NaN' : v)));
    }
  });

  test('the dither sequence is CFITSIO\'s (its 10000th seed is checked when built) and a cut RICE stream is an error', () => {
    expect(ditherRandoms[0]).toBe(Math.fround(16807 / 2147483647));
    expect(() => decodeTile('RICE_1', Uint8Array.of(0, 0, 0, 5, 0x80), 64, { bytepix: 4 })).toThrow(/RICE_1 tile: the stream ends after \d+ of 64 pixels/);
  });
});

describe('sink.fits', () => {
  const fixtures = join(repoRoot, 'test', 'fixtures', 'fits');
  test('images and a table written, then read back: the same values, headers carried, every CHECKSUM verified', async () => {
    const dir = scratchDir();
    const cube = await readSource(fitsSource, { path: 'kinds.fits', hdu: 'CUBE' }, fixtures);
    const [row] = cube.partitions[0].batches;
    await writeSink(fitsSink, { path: 'cube.fits' }, cube.schema, [[row], [row]], dir, 'fits');
    for (const hdu of [0, 1]) {
      const back = await readSource(fitsSource, { path: 'cube.fits', hdu }, dir);
      expect(flat(back.partitions[0].batches, 'data')).toEqual(flat([row], 'data'));
      const header = JSON.parse(String(back.partitions[0].batches[0].getChild('header')!.get(0)));
      expect(header.EXTNAME).toBe('CUBE');
      expect(header.CHECKSUM).toMatch(/^[0-9A-Za-z]{16}$/);
    }
    const table = await readSource(fitsSource, { path: 'kinds.fits', hdu: 'CATALOG' }, fixtures);
    const fitting = ['ID', 'FLUX', 'MAG', 'COUNTS', 'U16', 'GOOD', 'MATRIX', 'NAME'];
    // (Arrow JS's RecordBatch.select misplaces columns after the first gap, so the columns are picked here.)
    const subset = new Schema(fitting.map((n) => table.schema.fields.find((f) => f.name === n)!));
    const picked = table.partitions[0].batches.map((b) => makeBatch(subset, fitting.map((n) => b.getChild(n)!.data[0]), b.numRows));
    await writeSink(fitsSink, { path: 'catalog.fits', extname: 'CATALOG' }, picked[0].schema, [picked], dir, 'fits');
    const back = await readSource(fitsSource, { path: 'catalog.fits', hdu: 'CATALOG' }, dir);
    for (const name of fitting) {
      expect(back.schema.fields.find((f) => f.name === name)!.metadata.get('unit')).toBe(picked[0].schema.fields.find((f) => f.name === name)!.metadata.get('unit'));
      expect(JSON.stringify(flatColumn(back.partitions[0].batches, name)), name).toBe(JSON.stringify(flatColumn(picked, name)));
    }
  });

  test('a column FITS cannot hold is refused by name', () => {
    const schema = new Schema([new Field('when', new TimestampMillisecond())]);
    expect(() => fitsSink.check!({ params: fitsSink.params.parse({ path: 'x.fits', as: 'table' }), inputs: [schema], baseDir: '.' })).toThrow("column 'when': FITS tables cannot hold");
  });
});

describe('FITS headers and integrity', () => {
  const card = (text: string) => text.padEnd(80);
  const block = (cards: string[]) => new TextEncoder().encode([...cards, card('END')].join('').padEnd(Math.ceil((cards.length + 1) / 36) * 2880));

  test('strings with quotes, CONTINUE, HIERARCH, logicals, big integers, D exponents and complex values', () => {
    const header = parseHeader(block([
      card("SIMPLE  =                    T"), card("OBJECT  = 'M87 ''core'''        / a quoted name"),
      card("LONGSTR = 'first part &'"), card("CONTINUE  'second part'"), card('HIERARCH ESO DET CHIP NAME = \'CCD-1\''),
      card('BZERO   =  9223372036854775808'), card('GAIN    =             1.5D+02'), card('Z       = (1.0, -2.5)'), card('EMPTY   ='),
      card('HISTORY reduced by quiver'),
    ]), 'test');
    expect(header.get('SIMPLE')).toBe(true);
    expect(header.get('OBJECT')).toBe("M87 'core'");
    expect(header.get('LONGSTR')).toBe('first part second part');
    expect(header.get('ESO DET CHIP NAME')).toBe('CCD-1');
    expect(header.get('BZERO')).toBe(9223372036854775808n);
    expect(header.get('GAIN')).toBe(150);
    expect(header.get('Z')).toEqual([1, -2.5]);
    expect(header.get('EMPTY')).toBeNull();
    expect(header.toJSON().HISTORY).toEqual(['reduced by quiver']);
  });

  test("the checksum text and card layout are astropy's (it re-formats CHECKSUM to verify, so both must match)", () => {
    // Values from astropy's _char_encode of the same sums.
    expect(encodeChecksum(0x12345678)).toBe('QleaTkbTQkbZQkbZ');
    expect(encodeChecksum(0xdeadbeef)).toBe('49FH48D948DG48D9');
    expect(encodeChecksum(4000000000)).toBe('o5Uhr4Ueo4Ueo4Ue');
    const text = new TextDecoder().decode(headerBytes([['CHECKSUM', '0000000000000000', 'HDU checksum'], ['NAXIS', 2, 'axes'], ['OBJECT', "it's", undefined]]));
    expect(text.slice(0, 80)).toBe("CHECKSUM= '0000000000000000'   / HDU checksum".padEnd(80));
    expect(text.slice(80, 160)).toBe('NAXIS   =                    2 / axes'.padEnd(80));
    expect(text.slice(160, 240)).toBe("OBJECT  = 'it''s   '".padEnd(80));
  });

  test.skipIf(!data)('a damaged byte fails DATASUM; a truncated file names the HDU and the bytes missing', async () => {
    const dir = scratchDir();
    const original = readFileSync(join(data!, 'astronomy', 'hmi.sharp_cea_720s.377.20110215_020000_TAI.bitmap.fits'));
    const damaged = Buffer.from(original);
    damaged[damaged.length - 2880 * 10] ^= 0x40;
    writeFileSync(join(dir, 'damaged.fits'), damaged);
    await expect(readSource(fitsSource, { path: 'damaged.fits' }, dir)).rejects.toThrow(/damaged\.fits.*HDU 0: its data fails DATASUM/);
    const ignored = await readSource(fitsSource, { path: 'damaged.fits', checksum: 'ignore' }, dir);
    expect(ignored.partitions[0].batches[0].numRows).toBe(1);
    writeFileSync(join(dir, 'short.fits'), original.subarray(0, original.length - 5000));
    await expect(readSource(fitsSource, { path: 'short.fits' }, dir)).rejects.toThrow(/short\.fits.*HDU 0: truncated: its data needs bytes \d+-\d+ but the file ends at byte \d+/);
  });

  test.skipIf(!data)('data: false reads a header only (no tile is decoded); astro.keywords makes the SHARP parameters columns', async () => {
    const path = join(data!, 'astronomy', 'hmi.sharp_cea_720s.377.20110215_020000_TAI.Br.fits');
    const { schema, partitions: [{ batches: [row] }] } = await readSource(fitsSource, { path, hdu: 1, data: false }, '.');
    expect(schema.fields.map((f) => f.name)).toEqual(['_source', 'hdu', 'header']);
    const params = keywords.params.parse({ numbers: ['USFLUX', 'TOTUSJH', 'MEANPOT', 'R_VALUE', 'HARPNUM'], text: ['T_REC'] });
    const outputSchema = keywords.outputSchema({ params, inputs: [schema], baseDir: '.' });
    const table = await (await keywords.create(params, { inputSchema: schema, outputSchema, baseDir: '.' }))(row, { index: 0, key: 'x' });
    // astropy: USFLUX 2.71476e+22, TOTUSJH 3330.155, MEANPOT 14562.75, HARPNUM 377; R_VALUE is written 'nan' (astropy cannot parse the card).
    expect([1, 2, 3, 4, 5].map((c) => table!.getChildAt(2 + c)!.get(0))).toEqual([2.71476e22, 3330.155, 14562.75, null, 377]);
    expect(table!.getChild('T_REC')!.get(0)).toBe('2011.02.15_02:00:00_TAI');
  });

  test.skipIf(!data)('block_rows streams an image in blocks of rows that make up the whole image', async () => {
    const path = join(data!, 'astronomy', 'sunpy_aia_171_level1.fits');
    const whole = await readSource(fitsSource, { path }, '.');
    const blocks = await readSource(fitsSource, { path, block_rows: 50 }, '.');
    const rows = blocks.partitions[0].batches;
    expect(rows.map((b) => [b.getChild('row_start')!.get(0), b.getChild('rows')!.get(0)])).toEqual([[0, 50], [50, 50], [100, 28]]);
    const joined = flat(rows, 'data').slice(0, 128 * 128);
    expect(joined).toEqual(flat(whole.partitions[0].batches, 'data'));
    expect(flat(rows, 'data').slice(128 * 128).every(Number.isNaN)).toBe(true); // the last block's padding
  });
});
