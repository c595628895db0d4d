// The structure of an ODIM_H5 polar volume or scan (OPERA Data Information Model, EUMETNET,
// versions 2.0-2.4): `/what`, `/where`, `/how` at the top; `/datasetN` one per sweep with its own
// `what` (startdate, starttime, enddate, endtime), `where` (elangle, nrays, nbins, rscale in m,
// rstart in km, a1gate) and `how`; `/datasetN/dataM` one per moment (quantity) with `what`
// (quantity, gain, offset, nodata, undetect) and the `data` array [nrays, nbins], rays ordered by
// azimuth from north. An attribute missing at the data level is inherited from its dataset, then
// from the top (ODIM's rule). Reading the structure reads no data array. A sweep or moment whose
// attributes cannot be right (dims unlike nrays × nbins, no gain, gain 0) carries a `problem`
// instead of being dropped, so a reader can set it aside and name why.
import type { AttrValue, Hdf5File } from './hdf5.ts';

export type Attrs = Record<string, AttrValue>;
export interface Groups { what: Attrs; where: Attrs; how: Attrs }

export interface OdimMoment {
  /** `data1`, ... */
  group: string;
  /** `dataset1/data1/data` */
  path: string;
  quantity: string;
  gain: number;
  offset: number;
  nodata: number | null;
  undetect: number | null;
  /** The array's shape as declared ([] if it has none). */
  shape: number[];
  attrs: { what: Attrs; how: Attrs };
  /** Why this moment cannot be read as an ODIM sweep, if it cannot. */
  problem?: string;
}

export interface OdimSweep {
  /** N of `datasetN`. */
  index: number;
  group: string;
  elevation: number;
  startTime: Date | null;
  endTime: Date | null;
  nrays: number;
  nbins: number;
  rscale: number;
  rstart: number;
  a1gate: number | null;
  /** Centre azimuth of each ray, degrees clockwise from north, and where it came from. */
  azimuths: Float64Array;
  azimuthFrom: 'startazA/stopazA' | 'azangles' | 'uniform';
  attrs: Groups;
  moments: OdimMoment[];
}

export interface OdimVolume {
  object: string | null;
  version: string | null;
  source: string | null;
  lat: number | null;
  lon: number | null;
  height: number | null;
  attrs: Groups;
  sweeps: OdimSweep[];
}

const num = (v: AttrValue | undefined): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : null);
const str = (v: AttrValue | undefined): string | null => (v === undefined ? null : Array.isArray(v) ? v.join(',') : String(v));

/** `YYYYMMDD` + `HHmmss` as a UTC instant, or null if either is absent or malformed. */
export function odimTime(date: AttrValue | undefined, time: AttrValue | undefined): Date | null {
  const d = /^(\d{4})(\d{2})(\d{2})$/.exec(String(date ?? '').trim());
  const t = /^(\d{2})(\d{2})(\d{2})$/.exec(String(time ?? '').trim());
  if (!d || !t) return null;
  const ms = Date.UTC(+d[1], +d[2] - 1, +d[3], +t[1], +t[2], +t[3]);
  return Number.isFinite(ms) ? new Date(ms) : null;
}

const groups = (h5: Hdf5File, path: string): Groups => ({
  what: h5.attrs(`${path}/what`), where: h5.attrs(`${path}/where`), how: h5.attrs(`${path}/how`),
});

/** `datasetN` / `dataN` members of a group, by N. */
function numbered(h5: Hdf5File, path: string, prefix: string): { name: string; n: number }[] {
  return h5.keys(path).flatMap((name) => {
    const m = new RegExp(`^${prefix}(\\d+)$`).exec(name);
    return m ? [{ name, n: Number(m[1]) }] : [];
  }).sort((a, b) => a.n - b.n);
}

/** The centre azimuth of each of `nrays` rays: from how/startazA and stopazA, ODIM 2.0's how/azangles, or evenly spaced from north. */
function rayAzimuths(how: Attrs, nrays: number): { azimuths: Float64Array; from: OdimSweep['azimuthFrom'] } {
  const centre = (start: number, stop: number) => (start + (((stop - start) % 360) + 360) % 360 / 2) % 360;
  const out = new Float64Array(nrays);
  const start = how.startazA, stop = how.stopazA;
  if (Array.isArray(start) && Array.isArray(stop) && start.length === nrays && stop.length === nrays) {
    for (let i = 0; i < nrays; i++) out[i] = centre(Number(start[i]), Number(stop[i]));
    if (out.every(Number.isFinite)) return { azimuths: out, from: 'startazA/stopazA' };
  }
  if (typeof how.azangles === 'string') {
    const pairs = how.azangles.split(',').map((p) => p.split(':').map(Number));
    if (pairs.length === nrays && pairs.every((p) => p.length === 2 && p.every(Number.isFinite))) {
      for (let i = 0; i < nrays; i++) out[i] = centre(pairs[i][0], pairs[i][1]);
      return { azimuths: out, from: 'azangles' };
    }
  }
  for (let i = 0; i < nrays; i++) out[i] = ((i + 0.5) * 360) / nrays;
  return { azimuths: out, from: 'uniform' };
}

/** Most rays or bins a sweep may declare (a 0.1° × 10 m sweep of 1000 km has 3600 × 100000). */
const MAX_RAYS = 100_000;
const MAX_BINS = 1_000_000;

/** Reads the structure of an open ODIM_H5 file (attributes and shapes, no data arrays). */
export function readVolume(h5: Hdf5File): OdimVolume {
  const top = groups(h5, '');
  const sweeps = numbered(h5, '', 'dataset').map(({ name, n }): OdimSweep => {
    const attrs = groups(h5, name);
    const where = { ...top.where, ...attrs.where };
    const what = { ...top.what, ...attrs.what };
    const problems: string[] = [];
    const whole = (key: string, max: number) => {
      const v = num(where[key]);
      if (v === null) problems.push(`${name}/where has no ${key}`);
      else if (!Number.isInteger(v) || v < 1 || v > max) problems.push(`${name}/where/${key} is ${v}, not a whole number from 1 to ${max}`);
      return v !== null && Number.isInteger(v) && v >= 1 && v <= max ? v : 0;
    };
    const nrays = whole('nrays', MAX_RAYS);
    const nbins = whole('nbins', MAX_BINS);
    const elevation = num(where.elangle);
    if (elevation === null || elevation < -90 || elevation > 90) problems.push(`${name}/where/elangle is ${str(where.elangle) ?? 'absent'}, not an angle from -90 to 90 degrees`);
    const rscale = num(where.rscale);
    if (rscale === null || !(rscale > 0)) problems.push(`${name}/where/rscale is ${str(where.rscale) ?? 'absent'}, not a positive bin length in metres`);
    const rstart = num(where.rstart) ?? 0;
    const { azimuths, from } = rayAzimuths({ ...top.how, ...attrs.how }, nrays);
    const moments = numbered(h5, name, 'data').map(({ name: dataName }): OdimMoment => {
      const path = `${name}/${dataName}`;
      const own = { what: h5.attrs(`${path}/what`), how: h5.attrs(`${path}/how`) };
      const w = { ...what, ...own.what };
      const mine = [...problems];
      const quantity = str(w.quantity);
      if (!quantity) mine.push(`${path}/what has no quantity`);
      const gain = num(w.gain);
      if (gain === null || gain === 0) mine.push(`${path}/what/gain is ${str(w.gain) ?? 'absent'}: the raw values cannot be scaled (value = raw × gain + offset needs a finite, non-zero gain)`);
      const offset = num(w.offset);
      if (offset === null) mine.push(`${path}/what/offset is ${str(w.offset) ?? 'absent'}, not a number`);
      const d = h5.dataset(`${path}/data`);
      let shape: number[] = [];
      if (!d) mine.push(`${path} has no data array`);
      else {
        const s = h5.shapeOf(d, `${path}/data`);
        shape = s.shape;
        if (!s.numeric) mine.push(`${path}/data is not numeric`);
        else if (shape.length !== 2 || (nrays && shape[0] !== nrays) || (nbins && shape[1] !== nbins)) {
          mine.push(`${path}/data is ${shape.join(' × ') || 'a scalar'} but ${name}/where says nrays ${nrays || '?'} × nbins ${nbins || '?'}`);
        } else {
          const size = h5.sizeProblem(d, `${path}/data`);
          if (size) mine.push(size);
        }
      }
      return {
        group: dataName, path: `${path}/data`, quantity: quantity ?? '', gain: gain ?? NaN, offset: offset ?? NaN,
        nodata: num(w.nodata), undetect: num(w.undetect), shape, attrs: own, ...(mine.length ? { problem: mine.join('; ') } : {}),
      };
    });
    return {
      index: n, group: name, elevation: elevation ?? NaN,
      startTime: odimTime(attrs.what.startdate ?? top.what.date, attrs.what.starttime ?? top.what.time),
      endTime: odimTime(attrs.what.enddate, attrs.what.endtime),
      nrays, nbins, rscale: rscale ?? NaN, rstart, a1gate: num(where.a1gate), azimuths, azimuthFrom: from, attrs, moments,
    };
  });
  return {
    object: str(top.what.object), version: str(top.what.version), source: str(top.what.source),
    lat: num(top.where.lat), lon: num(top.where.lon), height: num(top.where.height), attrs: top, sweeps,
  };
}
