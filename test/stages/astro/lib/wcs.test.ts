// Pixel ↔ world against astropy.wcs. test/fixtures/fits/wcs-headers.json (astropy 5.2.1, WCSLIB 7.12) holds
// the WCS keywords of the three headers of ../shared/data/WCS_REFERENCE.json — AIA HPLN-TAN in arcsec, HMI SHARP
// CRLN-CEA from a tile-compressed HDU, UKIDSS RA/DEC ZPN — and synthetic headers for every projection, each with
// astropy's all_pix2world and all_world2pix (origin 0; null where astropy gives NaN).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { fitsSource } from '../../../../connectors/fits/source.ts';
import { Wcs, type HeaderValues } from '../../../../src/stages/astro/lib/wcs.ts';
import { readSource } from '../../../connectors/stage-harness.ts';
import { repoRoot, sharedData } from '../../../helpers.ts';

interface AstropyCase {
  name?: string;
  file?: string;
  hdu?: number;
  header: Record<string, string | number>;
  axes?: [number, number];
  ctype: string[];
  cunit?: string[];
  /** [x, y, longitude, latitude] */
  pixelToWorld: [number, number, number | null, number | null][];
  /** [longitude, latitude, x, y] */
  worldToPixel: [number, number, number | null, number | null][];
}
const fixture = JSON.parse(readFileSync(join(repoRoot, 'test/fixtures/fits/wcs-headers.json'), 'utf8')) as { files: AstropyCase[]; synthetic: AstropyCase[] };
const cardsOf = (cards: Record<string, unknown>): HeaderValues => (k) => cards[k] as never;

/** How far ours is from astropy's value; where astropy has none (NaN), 0 if ours is NaN too. */
const off = (ours: number, astropy: number | null) => (astropy === null ? (Number.isNaN(ours) ? 0 : Infinity) : Math.abs(ours - astropy));

function matchesAstropy(c: AstropyCase) {
  const wcs = Wcs.fromHeader(cardsOf(c.header), c.axes);
  expect(wcs.ctype).toEqual(c.ctype);
  expect(wcs.cunit).toEqual(['deg', 'deg']);
  for (const [x, y, lng, lat] of c.pixelToWorld) {
    const [l, b] = wcs.pixelToWorld(x, y);
    expect(Math.max(off(l, lng), off(b, lat)), `pixel (${x}, ${y}) → (${l}, ${b}); astropy (${lng}, ${lat})`).toBeLessThan(1e-9);
    if (lng === null) continue;
    // Back again; on the seam φ = ±180 of a cylindrical projection two pixels show one point, and either will do.
    const [bx, by] = wcs.worldToPixel(l, b);
    const [l2, b2] = wcs.pixelToWorld(bx, by);
    expect(Math.hypot(bx - x, by - y) < 1e-6 || Math.hypot(l2 - l, b2 - b) < 1e-9, `pixel (${x}, ${y}) back to (${bx}, ${by})`).toBe(true);
  }
  for (const [lng, lat, x, y] of c.worldToPixel) {
    const [px, py] = wcs.worldToPixel(lng, lat);
    expect(Math.max(off(px, x), off(py, y)), `world (${lng}, ${lat}) → (${px}, ${py}); astropy (${x}, ${y})`).toBeLessThan(1e-6);
  }
}

describe('WCS against astropy (test/fixtures/fits/wcs-headers.json): pixel → world to 1e-9°, world → pixel and round trips to 1e-6 pixel', () => {
  for (const c of fixture.files) test(`${c.file} HDU ${c.hdu}: ${c.ctype.join(' / ')}`, () => matchesAstropy(c));
  for (const c of fixture.synthetic) test(c.name!, () => matchesAstropy(c));
});

const data = sharedData('.');
const reference = data ? JSON.parse(readFileSync(join(data, 'WCS_REFERENCE.json'), 'utf8')) as Record<string, { hdu: number; ctype: string[]; cunit: string[]; pixels_zero_based: number[][]; world: number[][] }> : {};

async function headerOf(file: string, hdu: number): Promise<Record<string, unknown>> {
  const { partitions: [{ batches: [row] }] } = await readSource(fitsSource, { path: join(data!, file), hdu, data: false }, '.');
  return JSON.parse(String(row.getChild('header')!.get(0)));
}

describe.skipIf(!data)('WCS of the real files as source.fits reads them, against WCS_REFERENCE.json', () => {
  for (const [file, ref] of Object.entries(reference)) {
    test(`${file}: ${ref.ctype.join(' / ')}: the fixture's keywords, and every reference point to 1e-6°`, async () => {
      const header = await headerOf(file, ref.hdu);
      // The reader writes integers as their decimal text in its JSON header, and gives a tile-compressed
      // image's own header, where the image's NAXISn are ZNAXISn.
      for (const [k, v] of Object.entries(fixture.files.find((c) => c.file === file)!.header)) {
        const card = header.ZIMAGE === true && k.startsWith('NAXIS') ? `Z${k}` : k;
        expect(typeof v === 'number' ? Number(header[card]) : header[card], card).toEqual(v);
      }
      const wcs = Wcs.fromHeader(cardsOf(header));
      expect([wcs.ctype, wcs.cunit]).toEqual([ref.ctype, ref.cunit]);
      ref.pixels_zero_based.forEach(([x, y], i) => {
        const [lng, lat] = wcs.pixelToWorld(x, y);
        expect(Math.abs(lng - ref.world[i][0]), `pixel (${x}, ${y}) longitude ${lng} vs ${ref.world[i][0]}`).toBeLessThan(1e-6);
        expect(Math.abs(lat - ref.world[i][1]), `pixel (${x}, ${y}) latitude ${lat} vs ${ref.world[i][1]}`).toBeLessThan(1e-6);
        const [bx, by] = wcs.worldToPixel(lng, lat);
        expect(Math.hypot(bx - x, by - y)).toBeLessThan(1e-6);
      });
    });
  }
});

describe('WCS by hand', () => {
  const tan = { CTYPE1: 'RA---TAN', CTYPE2: 'DEC--TAN', CRPIX1: 10, CRPIX2: 10, CRVAL1: 30, CRVAL2: 40, CDELT1: -0.1, CDELT2: 0.1 };

  test('longitudes take the sign of CRVAL1: [0, 360] for CRVAL1 ≥ 0, [-360, 0] below', () => {
    const car = { CTYPE1: 'GLON-CAR', CTYPE2: 'GLAT-CAR', CRPIX1: 181, CRPIX2: 1, CDELT1: -1, CDELT2: 1 };
    const xy = Float64Array.from({ length: 722 }, (_, i) => (i % 2 ? 0 : i / 2));
    for (const [crval1, lo, hi] of [[0, 0, 360], [10, 0, 360], [-10, -360, 0], [-0.001, -360, 0]]) {
      const world = Wcs.fromHeader(cardsOf({ ...car, CRVAL1: crval1 })).pixelsToWorld(xy);
      const lngs = world.filter((_, i) => i % 2 === 0);
      expect([Math.min(...lngs) >= lo, Math.max(...lngs) <= hi], `CRVAL1 ${crval1}`).toEqual([true, true]);
    }
    // On the native seam both edge pixels show longitude 180; a step beyond is off the map.
    const seam = Wcs.fromHeader(cardsOf({ ...car, CRVAL1: 0 }));
    expect([seam.pixelToWorld(0, 0)[0], seam.pixelToWorld(360, 0)[0], seam.pixelToWorld(360.01, 0)[0]]).toEqual([180, 180, NaN]);
  });

  test('pixelsToWorld gives what pixelToWorld gives, point by point', () => {
    const wcs = Wcs.fromHeader(cardsOf({ ...tan, CTYPE1: 'RA---SIN', CTYPE2: 'DEC--SIN', CDELT1: -1, CDELT2: 1 }));
    const xy = Float64Array.from([0, 0, 9, 9, 3.5, 17.25, 200, 9]);
    expect(Array.from(wcs.pixelsToWorld(xy))).toEqual([0, 2, 4, 6].flatMap((i) => wcs.pixelToWorld(xy[i], xy[i + 1])));
    expect(wcs.pixelToWorld(200, 9)).toEqual([NaN, NaN]); // beyond the limb
  });

  test('integers as bigint, or as the decimal text the FITS reader\'s JSON header holds, read as numbers', () => {
    const plain = Wcs.fromHeader(cardsOf(tan)).pixelToWorld(3, 4);
    expect(Wcs.fromHeader(cardsOf({ ...tan, CRPIX1: 10n, CRPIX2: '10', CRVAL1: '30', CRVAL2: 40n })).pixelToWorld(3, 4)).toEqual(plain);
  });

  test('headers it cannot follow are refused by name', () => {
    expect(() => Wcs.fromHeader(cardsOf({ ...tan, CTYPE1: 'RA---AIT', CTYPE2: 'DEC--AIT' }))).toThrow('unsupported projection AIT (RA---AIT)');
    expect(() => Wcs.fromHeader(cardsOf({ ...tan, CTYPE1: 'RA---TAN-SIP', CTYPE2: 'DEC--TAN-SIP' }))).toThrow('unsupported distortion SIP');
    expect(() => Wcs.fromHeader(cardsOf({ ...tan, CTYPE1: 'RA---TAN', CTYPE2: 'DEC--SIN' }))).toThrow('disagree on the projection');
    expect(() => Wcs.fromHeader(cardsOf({ ...tan, CUNIT1: 'm' }))).toThrow("CUNIT1 'm' is not an angle unit");
    expect(() => Wcs.fromHeader(cardsOf({ ...tan, CTYPE1: 'RA---CEA', CTYPE2: 'DEC--CEA', PV2_1: 1.5 }))).toThrow('CEA needs 0 < PV2_1 ≤ 1');
    expect(() => Wcs.fromHeader(cardsOf({ ...tan, CTYPE1: 'RA---ZPN', CTYPE2: 'DEC--ZPN' }))).toThrow('ZPN needs PV2_1');
    expect(() => Wcs.fromHeader(cardsOf({ ...tan, CTYPE1: 'RA---CAR', CTYPE2: 'DEC--CAR', CRVAL2: 60, LONPOLE: 120 }))).toThrow('no native pole');
    expect(() => Wcs.fromHeader(cardsOf(tan), [1, 3])).toThrow("CTYPE1 'RA---TAN' and CTYPE3 '' are not a longitude/latitude pair");
    expect(() => Wcs.fromHeader(cardsOf({ CTYPE1: 'PIXEL', CTYPE2: 'FREQ-LOG' }))).toThrow('no celestial axes');
    expect(Wcs.fromHeaderIfAny(cardsOf({ CTYPE1: 'PIXEL' }))).toBeUndefined();
  });
});
