// `astro.flares`: solar X-ray flare events from a GOES 1–8 Å flux series, by NOAA SWPC's event
// definition on one-minute means: an event begins at the first of four minutes of steady rise whose
// last is at least 1.4 times the first; its peak is the minute of highest flux; it ends when the
// flux has fallen to halfway between the peak and the level at the start. The class is the peak
// flux on the GOES scale: A 1e-8, B 1e-7, C 1e-6, M 1e-5, X 1e-4 W/m² (M2.5 = 2.5e-5).
import { Field, Float64, Schema, Utf8, makeData, vectorFromArray } from 'apache-arrow';
import { z } from 'zod';
import { makeBatch } from '../../arrow/batch.ts';
import { parseType } from '../../arrow/types.ts';
import { isScalar } from '../../arrow/values.ts';
import { requireColumnOf } from '../../arrow/columns.ts';
import { defineReduce } from '../../workflow/stage.ts';
import { numbers, requireNumbers } from '../../arrow/added-columns.ts';
import { holdRows } from '../../arrow/hold-rows.ts';

const params = z.object({
  time: z.string().min(1).default('time'),
  flux: z.string().min(1).default('long').describe('the 1–8 Å flux, W/m²'),
  bin_s: z.number().positive().default(60).describe('the mean is taken over bins of this many seconds'),
  rise_ratio: z.number().gt(1).default(1.4),
}).strict();

const utcMs = parseType('timestamp[ms, UTC]');
const schema = new Schema([
  new Field('start', utcMs, false), new Field('peak', utcMs, false), new Field('end', utcMs, true),
  new Field('class', new Utf8(), false), new Field('peak_flux', new Float64(), false), new Field('start_flux', new Float64(), false),
]);

/** The GOES class of a peak flux in W/m², e.g. 2.545e-5 → M2.5. */
export function goesClass(flux: number): string {
  const scale: [string, number][] = [['X', 1e-4], ['M', 1e-5], ['C', 1e-6], ['B', 1e-7], ['A', 1e-8]];
  const [letter, base] = scale.find(([, b]) => flux >= b) ?? ['A', 1e-8];
  return `${letter}${(Math.floor((flux / base) * 10 + 1e-9) / 10).toFixed(1)}`;
}

export interface FlareEvent { start: number; peak: number; end: number | null; peakFlux: number; startFlux: number }

/** Events in a series of bin means (NaN for a bin without data) at times `t`. */
export function findFlares(t: number[], f: number[], riseRatio: number): FlareEvent[] {
  const events: FlareEvent[] = [];
  for (let i = 0; i + 3 < f.length;) {
    const rising = f[i] < f[i + 1] && f[i + 1] < f[i + 2] && f[i + 2] < f[i + 3] && f[i + 3] >= riseRatio * f[i];
    if (!rising) {
      i++;
      continue;
    }
    let peak = i + 3;
    let end: number | null = null;
    for (let k = i + 4; k < f.length; k++) {
      if (Number.isNaN(f[k])) continue;
      if (f[k] > f[peak]) peak = k;
      else if (f[k] <= (f[peak] + f[i]) / 2) {
        end = k;
        break;
      }
    }
    events.push({ start: t[i], peak: t[peak], end: end === null ? null : t[end], peakFlux: f[peak], startFlux: f[i] });
    if (end === null) break; // still going when the data ends
    i = end + 1;
  }
  return events;
}

export const flares = defineReduce({
  name: 'astro.flares',
  kind: 'reduce',
  version: '1',
  description: 'Solar flare events (start, peak, end, GOES class) from a 1–8 Å X-ray flux series, by the NOAA SWPC definition.',
  params,
  outputSchema({ params: p, inputs: [input] }) {
    requireColumnOf(input, p.time, isScalar, 'a timestamp');
    requireNumbers(input, [p.flux]);
    return schema;
  },
  scope: () => 'all',
  create(p, { inputSchemas: [input] }) {
    return holdRows(input, 'all', (all) => {
      const time = numbers(all, p.time);
      const flux = numbers(all, p.flux);
      // Bin means, bins counted from the first bin with data; empty bins stay NaN.
      const binMs = p.bin_s * 1000;
      const sums = new Map<number, [number, number]>();
      time.forEach((ms, i) => {
        if (!(flux[i] > 0)) return;
        const bin = Math.floor(ms / binMs);
        const s = sums.get(bin) ?? [0, 0];
        s[0] += flux[i];
        s[1]++;
        sums.set(bin, s);
      });
      const bins = [...sums.keys()].sort((a, b) => a - b);
      const t: number[] = [];
      const f: number[] = [];
      for (let b = bins[0]; bins.length > 0 && b <= bins[bins.length - 1]; b++) {
        const s = sums.get(b);
        t.push(b * binMs);
        f.push(s ? s[0] / s[1] : NaN);
      }
      const events = findFlares(t, f, p.rise_ratio);
      const times = (pick: (e: FlareEvent) => number | null) => vectorFromArray(events.map(pick), utcMs).data[0];
      return makeBatch(schema, [times((e) => e.start), times((e) => e.peak), times((e) => e.end),
        vectorFromArray(events.map((e) => goesClass(e.peakFlux)), new Utf8()).data[0],
        makeData({ type: new Float64(), length: events.length, nullCount: 0, data: Float64Array.from(events, (e) => e.peakFlux) }),
        makeData({ type: new Float64(), length: events.length, nullCount: 0, data: Float64Array.from(events, (e) => e.startFlux) })], events.length);
    });
  },
});
