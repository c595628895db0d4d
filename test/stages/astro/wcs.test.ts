// Pixel ↔ world against astropy.wcs: the points ../shared/data/WCS_REFERENCE.json gives for real
// headers (AIA HPLN-TAN in arcsec, HMI SHARP CRLN-CEA, UKIDSS RA/DEC ZPN), read by source.fits.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { fitsSource } from '../../../connectors/fits.ts';
import { Wcs } from '../../../src/stages/astro/wcs.ts';
import { readSource } from '../../connectors/stage-harness.ts';
import { sharedData } from '../../helpers.ts';

const data = sharedData('.');
const reference = data ? JSON.parse(readFileSync(join(data, 'WCS_REFERENCE.json'), 'utf8')) as Record<string, { hdu: number; ctype: string[]; pixels_zero_based: number[][]; world: number[][] }> : {};

async function headerOf(file: string, hdu: number): Promise<Record<string, unknown>> {
  const { partitions: [{ batches: [row] }] } = await readSource(fitsSource, { path: join(data!, file), hdu, data: false }, '.');
  return JSON.parse(String(row.getChild('header')!.get(0)));
}

describe.skipIf(!data)('WCS against astropy (WCS_REFERENCE.json)', () => {
  for (const [file, ref] of Object.entries(reference)) {
    test(`${file}: ${ref.ctype.join(' / ')}: pixel → world to 1e-6 degree, and back to 1e-6 pixel`, async () => {
      const header = await headerOf(file, ref.hdu);
      const wcs = Wcs.fromHeader((k) => header[k] as never);
      expect(wcs.ctype).toEqual(ref.ctype);
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
  const header = (cards: Record<string, unknown>) => (k: string) => cards[k] as never;
  test('CAR with a CD matrix: a plain linear map; SIN at the reference pixel gives CRVAL; an unsupported projection names itself', () => {
    const car = Wcs.fromHeader(header({ CTYPE1: 'GLON-CAR', CTYPE2: 'GLAT-CAR', CRPIX1: 1, CRPIX2: 1, CRVAL1: 10, CRVAL2: 0, CD1_1: -0.5, CD2_2: 0.5 }));
    const [l, b] = car.pixelToWorld(2, 4);
    expect(Math.abs(l - 9) + Math.abs(b - 2)).toBeLessThan(1e-12);
    // CEA with λ = 0.5 near longitude 0, against astropy: (354, 0), (358, −4.0032564), (318, −1.00005078).
    const cea = Wcs.fromHeader(header({ CTYPE1: 'RA---CEA', CTYPE2: 'DEC--CEA', CRPIX1: 5, CRPIX2: 5, CRVAL1: 350, CRVAL2: 0, CDELT1: -2, CDELT2: 2, PV2_1: 0.5 }));
    [[2, 4, 354, 0], [0, 0, 358, -4.0032564], [20, 3, 318, -1.00005078]].forEach(([x, y, lng, lat]) => {
      const [cl, cb] = cea.pixelToWorld(x, y);
      expect(Math.abs(cl - lng) + Math.abs(cb - lat)).toBeLessThan(1e-7);
    });
    const sin = Wcs.fromHeader(header({ CTYPE1: 'RA---SIN', CTYPE2: 'DEC--SIN', CRPIX1: 51, CRPIX2: 51, CRVAL1: 201.365, CRVAL2: -43.019, CDELT1: -1e-4, CDELT2: 1e-4 }));
    const [ra, dec] = sin.pixelToWorld(50, 50);
    expect(Math.abs(ra - 201.365) + Math.abs(dec + 43.019)).toBeLessThan(1e-12);
    // SIN with slant (PV2_1, PV2_2) and a PC matrix, and TAN near the pole with a rotated CD matrix, against astropy.
    const cases: [Record<string, unknown>, number[][]][] = [
      [{ CTYPE1: 'RA---SIN', CTYPE2: 'DEC--SIN', CRPIX1: 51, CRPIX2: 41, CRVAL1: 201.365, CRVAL2: -43.019, CDELT1: -1e-3, CDELT2: 1e-3, PV2_1: 0.1, PV2_2: -0.2, PC1_1: 0.9, PC1_2: 0.1, PC2_1: -0.1, PC2_2: 0.95 },
        [[0, 0, 201.43205164439632, -43.05197435208131], [100, 80, 201.29801206354472, -42.98597436213446], [13.5, 70.25, 201.40576934272858, -42.98660187584063]]],
      [{ CTYPE1: 'RA---TAN', CTYPE2: 'DEC--TAN', CRPIX1: 100, CRPIX2: 100, CRVAL1: 0.5, CRVAL2: 89, CD1_1: -0.01, CD1_2: 0.003, CD2_1: 0.002, CD2_2: 0.01 },
        [[0, 0, 18.07617875181398, 87.70514450861916], [199, 199, 254.56459329528053, 89.27221959000927], [150, 20, 336.6269527762889, 88.15421119430881]]],
    ];
    for (const [cards, points] of cases) {
      const wcs = Wcs.fromHeader(header(cards));
      for (const [x, y, lng, lat] of points) {
        const [l, b] = wcs.pixelToWorld(x, y);
        expect(Math.abs(l - lng) + Math.abs(b - lat), `${cards.CTYPE1} (${x}, ${y})`).toBeLessThan(1e-9);
        const [bx, by] = wcs.worldToPixel(l, b);
        expect(Math.hypot(bx - x, by - y)).toBeLessThan(1e-7);
      }
    }
    expect(() => Wcs.fromHeader(header({ CTYPE1: 'RA---AIT', CTYPE2: 'DEC--AIT' }))).toThrow('projection AIT (RA---AIT) is not supported (TAN, SIN, ZPN, CAR, CEA are)');
    expect(Wcs.fromHeaderIfAny(header({ CTYPE1: 'PIXEL' }))).toBeUndefined();
  });
});
