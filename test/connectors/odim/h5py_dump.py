# Reference dump of ODIM_H5 files by h5py (Debian's python3-h5py): for each sweep x moment, the
# attributes, the sha256 of the stored array, counts of nodata/undetect cells, the sum and max of the
# physical values (raw * gain + offset, in float64) and the first valid cells as float32.
# Used by test/connectors/odim/odim.test.ts; its output for the shared files is
# test/fixtures/odim/h5py-reference.json.  Usage: python3 h5py_dump.py FILE...
import hashlib, json, os, sys
import h5py, numpy as np

def scalar(v):
    if isinstance(v, bytes):
        return v.decode()
    if isinstance(v, np.ndarray):
        v = v.tolist() if v.size != 1 else v.reshape(-1)[0]
        if isinstance(v, list):
            return [scalar(x) for x in v]
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return float(v)
    if isinstance(v, bytes):
        return v.decode()
    return v

def attrs(f, path):
    return {k: scalar(v) for k, v in f[path].attrs.items()} if path in f else {}

out = {}
for name in sys.argv[1:]:
    with h5py.File(name, 'r') as f:
        top = {g: attrs(f, g) for g in ('what', 'where', 'how')}
        sweeps = []
        for ds in sorted((k for k in f if k.startswith('dataset')), key=lambda k: int(k[7:])):
            w = attrs(f, ds + '/where'); wt = attrs(f, ds + '/what')
            for dn in sorted((k for k in f[ds] if k.startswith('data')), key=lambda k: int(k[4:])):
                a = attrs(f, f'{ds}/{dn}/what')
                raw = f[f'{ds}/{dn}/data'][()]
                gain, offset = float(a['gain']), float(a['offset'])
                nodata, undetect = float(a['nodata']), float(a['undetect'])
                valid = (raw != nodata) & (raw != undetect)
                phys = raw.astype(np.float64) * gain + offset
                flat = np.flatnonzero(valid.reshape(-1))[:5]
                sweeps.append({
                    'sweep': int(ds[7:]), 'moment': dn, 'quantity': a['quantity'],
                    'elangle': float(w['elangle']), 'nrays': int(w['nrays']), 'nbins': int(w['nbins']),
                    'rscale': float(w['rscale']), 'rstart': float(w['rstart']), 'a1gate': int(w['a1gate']),
                    'gain': gain, 'offset': offset, 'nodata': nodata, 'undetect': undetect,
                    'startdate': wt['startdate'], 'starttime': wt['starttime'], 'enddate': wt['enddate'], 'endtime': wt['endtime'],
                    'shape': list(raw.shape), 'dtype': str(raw.dtype),
                    'sha256': hashlib.sha256(np.ascontiguousarray(raw).tobytes()).hexdigest(),
                    'nodata_cells': int((raw == nodata).sum()), 'undetect_cells': int((raw == undetect).sum()),
                    'sum': float(phys[valid].sum()), 'max': float(phys[valid].max()) if valid.any() else None,
                    'first_valid': [[int(i), float(np.float32(phys.reshape(-1)[i]))] for i in flat],
                })
        out[os.path.basename(name)] = {'what': top['what'], 'where': top['where'], 'sweeps': sweeps}
print(json.dumps(out, indent=1, sort_keys=True))
