// `source.odim`: weather-radar polar volumes and scans in ODIM_H5 (read with h5wasm, hdf5.ts).
// One partition per file; one batch per sweep; one row per sweep × quantity. `data` is an
// arrow.fixed_shape_tensor [azimuth, range] of float32 physical values, raw × gain + offset, with
// `nodata` and `undetect` cells NaN (or, for undetect, `undetect_value` if given); with
// `physical: false` it holds the raw values unscaled (no NaN). Every row's tensor has the shape of
// the largest sweep of the files matched: a sweep of fewer rays or bins fills the top-left
// `nrays` × `nbins` and the rest is NaN. `azimuth_deg` [azimuth] holds each ray's centre azimuth
// (from how/startazA+stopazA, ODIM 2.0's how/azangles, else evenly spaced from north: ODIM orders
// rays by azimuth; a1gate is the ray scanned first, kept as a column). `raw: true` adds `raw`, the
// stored uint8 values as a [azimuth, range] tensor (uint8 moments only). The top-level
// what/where/how give `radar_lat`, `radar_lon`, `radar_height_m`, `radar_source`, `object`,
// `version`; `attributes` holds every what/where/how of the file, the sweep and the moment as JSON.
// A sweep whose attributes cannot be right (dims unlike nrays × nbins, gain absent or 0) is set
// aside under `onError: quarantine | skip` and the rest of the file read; under `fail` it ends the
// run naming the file and cause. A file that is not HDF5, or that HDF5 cannot open (truncated), is
// an unreadable partition.
import { open } from 'node:fs/promises';
import {
  Field, FixedSizeList, Float64, Int32, makeData, Schema, TimeUnit, Timestamp, Uint8, Utf8, vectorFromArray, type Data,
} from 'apache-arrow';
import { z } from 'zod';
import { makeBatch } from '../../src/arrow/batch.ts';
import { tensorData, tensorField } from '../../src/arrow/tensor.ts';
import { InputError } from '../../src/workflow/errors.ts';
import { defineSource, type Chunk } from '../../src/workflow/stage.ts';
import { describeEach, partitionsOf } from '../../src/io/file-discovery.ts';
import { matchFiles, readAt } from '../../src/io/input-files.ts';
import { checkTaskMemory } from '../../src/io/limits.ts';
import { Hdf5File } from './hdf5.ts';
import { readVolume, type OdimMoment, type OdimSweep, type OdimVolume } from './volume.ts';

const params = z.object({
  path: z.string().min(1).describe('an ODIM_H5 file (.h5, .hdf) or a glob, relative to the workflow folder'),
  quantities: z.array(z.string().min(1)).min(1).optional().describe('moments to read (DBZH, VRAD, TH, ...); default every one'),
  physical: z.boolean().default(true).describe('true: raw × gain + offset, nodata/undetect as NaN; false: the raw values'),
  undetect_value: z.number().optional().describe('physical value given to undetect cells (e.g. -32 dBZ) instead of NaN'),
  raw: z.boolean().default(false).describe('add `raw`: the stored uint8 values as a tensor'),
}).strict();
type Params = z.infer<typeof params>;

interface OdimChunk extends Chunk {
  path: string;
  key: string;
  rays: number;
  bins: number;
}

const ts = () => new Timestamp(TimeUnit.MILLISECOND, 'UTC');

export function odimSchema(rays: number, bins: number, withRaw: boolean): Schema {
  const raw = new Field('raw', new FixedSizeList(rays * bins, new Field('value', new Uint8(), false)), false, new Map([
    ['ARROW:extension:name', 'arrow.fixed_shape_tensor'],
    ['ARROW:extension:metadata', JSON.stringify({ shape: [rays, bins], dim_names: ['azimuth', 'range'] })],
  ]));
  return new Schema([
    new Field('_source', new Utf8(), false),
    new Field('sweep', new Int32(), false),
    new Field('quantity', new Utf8(), false),
    new Field('elevation_deg', new Float64(), false),
    new Field('start_time', ts(), true),
    new Field('end_time', ts(), true),
    new Field('nrays', new Int32(), false),
    new Field('nbins', new Int32(), false),
    new Field('rscale_m', new Float64(), false),
    new Field('rstart_km', new Float64(), false),
    new Field('a1gate', new Int32(), true),
    new Field('gain', new Float64(), false),
    new Field('offset', new Float64(), false),
    new Field('nodata', new Float64(), true),
    new Field('undetect', new Float64(), true),
    tensorField('data', { shape: [rays, bins], dimNames: ['azimuth', 'range'], kind: 'float32' }),
    tensorField('azimuth_deg', { shape: [rays], dimNames: ['azimuth'], kind: 'float64' }),
    ...(withRaw ? [raw] : []),
    new Field('radar_lat', new Float64(), true),
    new Field('radar_lon', new Float64(), true),
    new Field('radar_height_m', new Float64(), true),
    new Field('radar_source', new Utf8(), true),
    new Field('object', new Utf8(), true),
    new Field('version', new Utf8(), true),
    new Field('attributes', new Utf8(), false),
  ], new Map([['odim.data', 'value = raw * gain + offset; nodata and undetect cells NaN; cells past nrays x nbins NaN']]));
}

/** Reads the whole file and its ODIM structure; the caller closes the returned file. */
async function openVolume(path: string, key: string, bytes: number): Promise<{ h5: Hdf5File; volume: OdimVolume }> {
  checkTaskMemory(key, 'the ODIM_H5 file', bytes * 2);
  const handle = await open(path, 'r');
  let data: Uint8Array;
  try {
    const size = (await handle.stat()).size;
    data = await readAt(handle, 0, size, key, 'the file');
  } finally {
    await handle.close();
  }
  const h5 = await Hdf5File.open(data, key);
  try {
    const volume = readVolume(h5);
    if (volume.sweeps.length === 0) throw new InputError(key, `holds no /datasetN groups: not an ODIM_H5 volume or scan (what/object ${volume.object ?? 'absent'})`);
    return { h5, volume };
  } catch (error) {
    h5.close();
    throw error;
  }
}

const wanted = (p: Params) => (m: OdimMoment) => !p.quantities || p.quantities.includes(m.quantity);

export const odimSource = defineSource({
  name: 'source.odim',
  kind: 'source',
  version: '1',
  description: 'ODIM_H5 weather-radar volumes (via h5wasm): one partition per file, one row per sweep × quantity with a [azimuth, range] tensor of physical values.',
  extensions: ['.h5', '.hdf', '.hdf5'],
  params,
  async discover(p, ctx) {
    const files = await matchFiles(p.path, ctx);
    const described = await describeEach(files, 4, async (f) => {
      const { h5, volume } = await openVolume(f.path, f.key, f.bytes);
      h5.close();
      const moments = volume.sweeps.flatMap((s) => s.moments.filter(wanted(p)).filter((m) => !m.problem).map(() => s));
      if (!volume.sweeps.some((s) => s.moments.some(wanted(p)))) {
        throw new InputError(f.key, `holds no moment of ${p.quantities!.join(', ')} (it has ${[...new Set(volume.sweeps.flatMap((s) => s.moments.map((m) => m.quantity)))].join(', ')})`);
      }
      return { rays: Math.max(0, ...moments.map((s) => s.nrays)), bins: Math.max(0, ...moments.map((s) => s.nbins)) };
    });
    const good = described.flatMap((d) => ('info' in d ? [d.info] : []));
    const rays = Math.max(1, ...good.map((g) => g.rays));
    const bins = Math.max(1, ...good.map((g) => g.bins));
    // Every row holds a tensor of the largest sweep's shape (sweeps of different shapes in one file, or across files).
    checkTaskMemory(p.path, `a row's ${rays} × ${bins} tensor (the largest sweep's rays by the longest sweep's bins)`, rays * bins * 9);
    const schema = odimSchema(rays, bins, p.raw);
    const partitions = partitionsOf(described, (file) => [{
      key: file.key, file: file.path, bytes: file.bytes,
      chunks: (): OdimChunk[] => [{ path: file.path, key: file.key, rays, bins, bytes: file.bytes }],
    }]);
    return { schema, partitions };
  },
  async *read(chunk, p, { schema, reject }) {
    const { path, key, rays, bins } = chunk as OdimChunk;
    const size = await open(path, 'r').then(async (h) => (await h.stat().finally(() => h.close())).size);
    const { h5, volume } = await openVolume(path, key, size);
    try {
      for (const sweep of volume.sweeps) {
        const rows: { moment: OdimMoment; values: Float32Array; raw?: Uint8Array }[] = [];
        for (const moment of sweep.moments.filter(wanted(p))) {
          try {
            rows.push({ moment, ...sweepValues(h5, sweep, moment, rays, bins, p) });
          } catch (error) {
            const why = error instanceof InputError ? error.cause : (error as Error).message;
            if (!reject) throw error instanceof InputError ? error : new InputError(key, why);
            reject(`${key}: ${why}`, 1);
          }
        }
        if (rows.length > 0) yield sweepBatch(schema, key, volume, sweep, rows, rays, bins, p.raw);
      }
    } finally {
      h5.close();
    }
  },
});

/** One moment's [rays, bins] values, physical or raw, padded with NaN to the schema's shape. */
function sweepValues(h5: Hdf5File, sweep: OdimSweep, m: OdimMoment, rays: number, bins: number, p: Params): { values: Float32Array; raw?: Uint8Array } {
  if (m.problem) throw new InputError(h5.name, m.problem);
  if (sweep.nrays > rays || sweep.nbins > bins) throw new InputError(h5.name, `${m.path} is ${sweep.nrays} × ${sweep.nbins}, larger than the ${rays} × ${bins} the source found at discovery (the file changed?)`);
  const d = h5.dataset(m.path)!;
  const stored = h5.values(d, m.path);
  if (stored.length !== sweep.nrays * sweep.nbins) throw new InputError(h5.name, `${m.path} holds ${stored.length} values, not nrays ${sweep.nrays} × nbins ${sweep.nbins}`);
  const values = new Float32Array(rays * bins).fill(NaN);
  const undetect = p.undetect_value ?? NaN;
  for (let r = 0; r < sweep.nrays; r++) {
    for (let b = 0; b < sweep.nbins; b++) {
      const v = stored[r * sweep.nbins + b];
      values[r * bins + b] = !p.physical ? v : v === m.nodata ? NaN : v === m.undetect ? undetect : v * m.gain + m.offset;
    }
  }
  if (!p.raw) return { values };
  if (!(stored instanceof Uint8Array)) throw new InputError(h5.name, `${m.path} is not stored as uint8, so it has no raw uint8 tensor (read it without raw: true)`);
  const raw = new Uint8Array(rays * bins);
  for (let r = 0; r < sweep.nrays; r++) raw.set(stored.subarray(r * sweep.nbins, (r + 1) * sweep.nbins), r * bins);
  return { values, raw };
}

function sweepBatch(schema: Schema, key: string, v: OdimVolume, s: OdimSweep, rows: { moment: OdimMoment; values: Float32Array; raw?: Uint8Array }[],
  rays: number, bins: number, withRaw: boolean) {
  const n = rows.length;
  const col = (name: string, values: unknown[]): Data => vectorFromArray(values, schema.fields.find((f) => f.name === name)!.type).data[0];
  const same = (name: string, value: unknown) => col(name, Array(n).fill(value));
  const concat = (parts: Float32Array[]) => {
    const out = new Float32Array(n * rays * bins);
    parts.forEach((part, i) => out.set(part, i * rays * bins));
    return out;
  };
  const azimuths = new Float64Array(n * rays).fill(NaN);
  for (let i = 0; i < n; i++) azimuths.set(s.azimuths, i * rays);
  const field = (name: string) => schema.fields.find((f) => f.name === name)!;
  const children: Record<string, Data> = {
    _source: same('_source', key),
    sweep: same('sweep', s.index),
    quantity: col('quantity', rows.map((r) => r.moment.quantity)),
    elevation_deg: same('elevation_deg', s.elevation),
    start_time: same('start_time', s.startTime),
    end_time: same('end_time', s.endTime),
    nrays: same('nrays', s.nrays),
    nbins: same('nbins', s.nbins),
    rscale_m: same('rscale_m', s.rscale),
    rstart_km: same('rstart_km', s.rstart),
    a1gate: same('a1gate', s.a1gate),
    gain: col('gain', rows.map((r) => r.moment.gain)),
    offset: col('offset', rows.map((r) => r.moment.offset)),
    nodata: col('nodata', rows.map((r) => r.moment.nodata)),
    undetect: col('undetect', rows.map((r) => r.moment.undetect)),
    data: tensorData(field('data'), concat(rows.map((r) => r.values)), n),
    azimuth_deg: tensorData(field('azimuth_deg'), azimuths, n),
    radar_lat: same('radar_lat', v.lat),
    radar_lon: same('radar_lon', v.lon),
    radar_height_m: same('radar_height_m', v.height),
    radar_source: same('radar_source', v.source),
    object: same('object', v.object),
    version: same('version', v.version),
    attributes: col('attributes', rows.map((r) => JSON.stringify({ ...v.attrs, dataset: s.attrs, data: r.moment.attrs }))),
  };
  if (withRaw) {
    const type = field('raw').type as FixedSizeList;
    const bytes = new Uint8Array(n * rays * bins);
    rows.forEach((r, i) => bytes.set(r.raw!, i * rays * bins));
    children.raw = makeData({ type, length: n, nullCount: 0, child: makeData({ type: type.children[0].type, length: bytes.length, nullCount: 0, data: bytes }) });
  }
  return makeBatch(schema, schema.fields.map((f) => children[f.name]), n);
}
