// source.odim against h5py: every sweep × moment of the KNMI and Belgian (RMI) ODIM_H5 volumes in
// ../shared/data/radar — the stored array's sha256, the where/what attributes, nodata/undetect
// counts, the sum and max of the physical values and the first valid cells, exactly. h5py's dump
// is made live by /usr/bin/python3 (python3-h5py) when present; the same dump, committed as
// test/fixtures/odim/h5py-reference.json, is compared always.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RecordBatch } from 'apache-arrow';
import { describe, expect, test } from 'vitest';
import { odimSource } from '../../../connectors/odim/source.ts';
import { repoRoot, scratchDir, sharedData } from '../../helpers.ts';
import { readSource } from '../stage-harness.ts';

const radar = sharedData('radar');
const files = ['wradlib_knmi_polar_volume.h5', 'wradlib_20200207130000.rad.behel.pvol.dbzh.scanz.hdf', 'wradlib_20200207130000.rad.behel.pvol.vrad.scanz.hdf'];
const dumpScript = join(repoRoot, 'test/connectors/odim/h5py_dump.py');
const hasH5py = (() => {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import h5py']);
    return true;
  } catch {
    return false;
  }
})();

interface RefMoment {
  sweep: number; quantity: string; elangle: number; nrays: number; nbins: number; rscale: number; rstart: number; a1gate: number;
  gain: number; offset: number; nodata: number; undetect: number; startdate: string; starttime: string; enddate: string; endtime: string;
  sha256: string; nodata_cells: number; undetect_cells: number; sum: number; max: number | null; first_valid: [number, number][];
}
type Reference = Record<string, { what: Record<string, unknown>; where: Record<string, number>; sweeps: RefMoment[] }>;

const iso = (d: string, t: string) => `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6)}T${t.slice(0, 2)}:${t.slice(2, 4)}:${t.slice(4)}.000Z`;

/** Our rows of one file, compared with h5py's dump of it. */
function compare(batches: RecordBatch[], ref: Reference[string], file: string) {
  const rows = batches.flatMap((b) => b.toArray().map((r, i) => ({ r: r.toJSON(), b, i })));
  expect(rows.length).toBe(ref.sweeps.length);
  const [shapeRays, shapeBins] = JSON.parse(batches[0].schema.fields.find((f) => f.name === 'data')!.metadata.get('ARROW:extension:metadata')!).shape;
  for (const [k, m] of ref.sweeps.entries()) {
    const { r, b, i } = rows[k];
    const where = `${file} sweep ${m.sweep}`;
    expect({ where, sweep: r.sweep, quantity: r.quantity, elevation: r.elevation_deg, nrays: r.nrays, nbins: r.nbins, rscale: r.rscale_m, rstart: r.rstart_km, a1gate: r.a1gate, gain: r.gain, offset: r.offset, nodata: r.nodata, undetect: r.undetect })
      .toEqual({ where, sweep: m.sweep, quantity: m.quantity, elevation: m.elangle, nrays: m.nrays, nbins: m.nbins, rscale: m.rscale, rstart: m.rstart, a1gate: m.a1gate, gain: m.gain, offset: m.offset, nodata: m.nodata, undetect: m.undetect });
    expect(new Date(Number(r.start_time)).toISOString()).toBe(iso(m.startdate, m.starttime));
    expect(new Date(Number(r.end_time)).toISOString()).toBe(iso(m.enddate, m.endtime));
    // The stored array, row by row out of the padded raw tensor.
    const size = shapeRays * shapeBins;
    const raw = (b.getChild('raw')!.data[0].children[0].values as Uint8Array).subarray(i * size, (i + 1) * size);
    const stored = new Uint8Array(m.nrays * m.nbins);
    for (let ray = 0; ray < m.nrays; ray++) stored.set(raw.subarray(ray * shapeBins, ray * shapeBins + m.nbins), ray * m.nbins);
    expect(createHash('sha256').update(stored).digest('hex'), where).toBe(m.sha256);
    // Physical values: NaN at nodata and undetect, raw × gain + offset elsewhere.
    const data = (b.getChild('data')!.data[0].children[0].values as Float32Array).subarray(i * size, (i + 1) * size);
    let nan = 0, sum = 0, max = -Infinity, padding = 0;
    const firstValid: [number, number][] = [];
    for (let ray = 0; ray < m.nrays; ray++) {
      for (let bin = 0; bin < m.nbins; bin++) {
        const v = data[ray * shapeBins + bin];
        if (Number.isNaN(v)) nan++;
        else {
          sum += stored[ray * m.nbins + bin] * m.gain + m.offset;
          max = Math.max(max, v);
          if (firstValid.length < 5) firstValid.push([ray * m.nbins + bin, v]);
        }
      }
      for (let bin = m.nbins; bin < shapeBins; bin++) padding += Number.isNaN(data[ray * shapeBins + bin]) ? 0 : 1;
    }
    expect(padding, `${where}: cells past nbins are NaN`).toBe(0);
    expect(nan, where).toBe(m.nodata_cells + m.undetect_cells);
    expect(sum, where).toBeCloseTo(m.sum, 6);
    expect(m.max === null ? null : max, where).toBe(m.max === null ? null : Math.fround(m.max));
    expect(firstValid, where).toEqual(m.first_valid);
  }
  const first = rows[0].r;
  expect(first.radar_lat).toBe(ref.where.lat);
  expect(first.radar_lon).toBe(ref.where.lon);
  expect(first.radar_height_m).toBe(ref.where.height);
  expect(first.radar_source).toBe(ref.what.source);
  expect(first.object).toBe(ref.what.object);
  expect(first.version).toBe(ref.what.version);
}

async function readAll(file: string, extra: Record<string, unknown> = {}) {
  const { schema, partitions } = await readSource(odimSource, { path: file, raw: true, ...extra }, radar!);
  return { schema, batches: partitions[0].batches };
}

describe.skipIf(!radar)('source.odim', () => {
  const fixture = JSON.parse(readFileSync(join(repoRoot, 'test/fixtures/odim/h5py-reference.json'), 'utf8')) as Reference;

  test.each(files)('%s equals the committed h5py dump, value for value', async (file) => {
    const { batches } = await readAll(file);
    compare(batches, fixture[file], file);
  });

  test.skipIf(!hasH5py)('the three volumes equal h5py read now (python3-h5py)', async () => {
    const live = JSON.parse(execFileSync('/usr/bin/python3', [dumpScript, ...files.map((f) => join(radar!, f))], { maxBuffer: 64 << 20 }).toString()) as Reference;
    for (const file of files) compare((await readAll(file)).batches, live[file], file);
  });
  if (!hasH5py) test.skip('python3-h5py is absent (apt-get install python3-h5py): compared with the committed dump only', () => {});

  test('the KNMI volume: 14 sweeps in one partition, padded to 360 × 340, azimuths evenly spaced; quantities filter', async () => {
    const { schema, batches } = await readAll('wradlib_knmi_polar_volume.h5');
    expect(JSON.parse(schema.fields.find((f) => f.name === 'data')!.metadata.get('ARROW:extension:metadata')!)).toEqual({ shape: [360, 340], dim_names: ['azimuth', 'range'] });
    expect(batches).toHaveLength(14);
    const az = batches[0].getChild('azimuth_deg')!.get(0)!.toArray() as Float64Array;
    expect(az[0]).toBe(0.5);
    expect(az[359]).toBe(359.5);
    const attrs = JSON.parse(batches[0].getChild('attributes')!.get(0));
    expect(attrs.what.source).toBe('RAD:NL51;PLC:nldhl');
    expect(attrs.dataset.where.elangle).toBeCloseTo(0.3, 6);
    const none = await readSource(odimSource, { path: 'wradlib_knmi_polar_volume.h5', quantities: ['VRAD'] }, radar!).catch((e: Error) => e);
    expect(String(none)).toMatch(/wradlib_knmi_polar_volume\.h5.*holds no moment of VRAD \(it has DBZH\)/);
  });

  test('Belgian volume: azimuths from how/azangles; physical: false gives the raw values', async () => {
    const { batches } = await readAll('wradlib_20200207130000.rad.behel.pvol.vrad.scanz.hdf', { physical: false });
    const az = batches[0].getChild('azimuth_deg')!.get(0)!.toArray() as Float64Array;
    expect(az[0]).toBe(0.5);
    const data = batches[0].getChild('data')!.data[0].children[0].values as Float32Array;
    const raw = batches[0].getChild('raw')!.data[0].children[0].values as Uint8Array;
    expect(Array.from(data.subarray(0, 800))).toEqual(Array.from(raw.subarray(0, 800)));
  });

  test('hostile files: not HDF5, truncated, dims unlike nrays × nbins, gain 0 or absent, a huge declared size', async () => {
    const dir = scratchDir();
    const knmi = readFileSync(join(radar!, 'wradlib_knmi_polar_volume.h5'));
    writeFileSync(join(dir, 'text.h5'), 'this is not HDF5\n'.repeat(100));
    writeFileSync(join(dir, 'cut.h5'), knmi.subarray(0, 200_000));
    const expectError = async (name: string, pattern: RegExp) => {
      const error = await readSource(odimSource, { path: name }, dir).then(() => null, (e: Error) => e);
      expect(error, name).not.toBeNull();
      expect(error!.message).toMatch(pattern);
    };
    await expectError('text.h5', /text\.h5: is not an HDF5 file/);
    await expectError('cut.h5', /cut\.h5: HDF5 cannot open it: truncated file: eof = 200000.*stored_eof = 331687/);
    // Files written by h5py with one bad sweep each, beside a good one.
    if (!hasH5py) return;
    execFileSync('/usr/bin/python3', ['-c', `
import h5py, numpy as np, sys
def vol(name, where=None, what=None, shape=(4, 5), declared=None):
    with h5py.File(name, 'w') as f:
        f.create_group('what').attrs.update({'object': b'PVOL', 'version': b'H5rad 2.2', 'date': b'20200101', 'time': b'000000', 'source': b'NOD:test'})
        f.create_group('where').attrs.update({'lat': 50.0, 'lon': 5.0, 'height': 10.0})
        for n, bad in ((1, False), (2, True)):
            g = f.create_group(f'dataset{n}')
            w = {'elangle': 0.5 * n, 'nrays': 4, 'nbins': 5, 'rscale': 500.0, 'rstart': 0.0, 'a1gate': 0}
            q = {'quantity': b'DBZH', 'gain': 0.5, 'offset': -32.0, 'nodata': 255.0, 'undetect': 0.0}
            if bad:
                w.update(where or {}); q.update(what or {})
                for k, v in list(q.items()):
                    if v is None: del q[k]
            g.create_group('where').attrs.update(w)
            g.create_group('what').attrs.update({'startdate': b'20200101', 'starttime': b'000000', 'enddate': b'20200101', 'endtime': b'000010', 'product': b'SCAN'})
            d = g.create_group('data1')
            d.create_group('what').attrs.update(q)
            if bad and declared:
                d.create_dataset('data', shape=declared, dtype='u1', chunks=(1, 1), compression='gzip')
            else:
                d.create_dataset('data', data=np.arange(20, dtype='u1').reshape(shape if bad else (4, 5)) + 1, compression='gzip')
d = sys.argv[1]
vol(d + '/dims.h5', shape=(5, 4))
vol(d + '/gain0.h5', what={'gain': 0.0})
vol(d + '/nogain.h5', what={'gain': None})
vol(d + '/huge.h5', where={'nrays': 100000, 'nbins': 1000000}, declared=(100000, 1000000))
`, dir]);
    await expectError('dims.h5', /dims\.h5: dataset2\/data1\/data is 5 × 4 but dataset2\/where says nrays 4 × nbins 5/);
    await expectError('gain0.h5', /gain0\.h5: dataset2\/data1\/what\/gain is 0: the raw values cannot be scaled/);
    await expectError('nogain.h5', /nogain\.h5: dataset2\/data1\/what\/gain is absent/);
    await expectError('huge.h5', /huge\.h5: .*(more than a \d+-byte file can hold|more than the \d+ bytes one task may hold)/);
    // Under quarantine, the bad sweep is set aside and the good one read.
    const rejected: string[] = [];
    const parsed = odimSource.params.parse({ path: 'gain0.h5' });
    const { schema, partitions } = await odimSource.discover(parsed, { baseDir: dir });
    const batches: RecordBatch[] = [];
    for await (const chunk of partitions[0].chunks()) {
      for await (const b of odimSource.read(chunk, parsed, { schema, partition: { index: 0, key: 'gain0.h5' }, reject: (why) => rejected.push(why) })) batches.push(b);
    }
    expect(batches.map((b) => b.getChild('sweep')!.get(0))).toEqual([1]);
    expect(rejected).toEqual([expect.stringMatching(/gain0\.h5: dataset2\/data1\/what\/gain is 0/)]);
    expect(batches[0].getChild('data')!.get(0)!.toArray()[1]).toBe(2 * 0.5 - 32);
  });
});
