// `astro.goes-xrs`: GOES X-Ray Sensor fluxes as a time series. Reads the FLUXES table of the
// SDAC/sunpy GOES FITS files (read with source.fits `header: true`): each row holds TIME (seconds
// after TIMEZERO, an MJD) and FLUX [n, 2] in W/m², the long (1–8 Å) channel first. Emits one row
// per sample: `time` (UTC), `long`, `short`; the files' missing-data value −99999 becomes null.
import { Field, Float64, Schema, makeData } from 'apache-arrow';
import { z } from 'zod';
import { makeBatch } from '../../arrow/batch.ts';
import { parseType } from '../../arrow/types.ts';
import { requireColumn } from '../../arrow/columns.ts';
import { defineMap } from '../../workflow/stage.ts';
import { floatData } from '../../arrow/added-columns.ts';

const params = z.object({
  time: z.string().min(1).default('TIME'),
  flux: z.string().min(1).default('FLUX'),
}).strict();

const utcMs = parseType('timestamp[ms, UTC]');
const schema = new Schema([new Field('time', utcMs, false), new Field('long', new Float64(), true), new Field('short', new Float64(), true)]);
const unixEpochMjd = 40587;

export const goesXrs = defineMap({
  name: 'astro.goes-xrs',
  kind: 'map',
  version: '1',
  description: "GOES XRS FITS flux rows (TIME, FLUX [n, 2], header) → one row per sample: time, long (1–8 Å), short (0.5–4 Å).",
  params,
  outputSchema({ params: p, inputs: [input] }) {
    requireColumn(input, p.time);
    requireColumn(input, p.flux);
    requireColumn(input, 'header');
    return schema;
  },
  create(p) {
    return (batch) => {
      const times: number[] = [];
      const long: number[] = [];
      const short: number[] = [];
      for (let r = 0; r < batch.numRows; r++) {
        const header = JSON.parse(String(batch.getChild('header')!.get(r))) as Record<string, unknown>;
        const zero = Number(header.TIMEZERO ?? header.MJDREF);
        if (!Number.isFinite(zero)) throw new Error(`row ${r}: the header has no TIMEZERO (MJD) to count TIME from`);
        const t = [...batch.getChild(p.time)!.get(r)] as number[];
        const flux = [...batch.getChild(p.flux)!.get(r)] as number[];
        if (flux.length !== 2 * t.length) throw new Error(`row ${r}: ${p.flux} holds ${flux.length} values for ${t.length} times; expected two channels per time`);
        t.forEach((s, i) => {
          times.push(Math.round((zero - unixEpochMjd) * 86_400_000 + s * 1000));
          long.push(flux[2 * i] === -99999 ? NaN : flux[2 * i]);
          short.push(flux[2 * i + 1] === -99999 ? NaN : flux[2 * i + 1]);
        });
      }
      const time = makeData({ type: utcMs, length: times.length, nullCount: 0, data: BigInt64Array.from(times, BigInt) } as never);
      return makeBatch(schema, [time, floatData(Float64Array.from(long)), floatData(Float64Array.from(short))], times.length);
    };
  },
});
