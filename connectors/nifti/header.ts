// NIfTI-1 (348-byte) and NIfTI-2 (540-byte) headers, either byte order, read and written; the
// voxel → world affine chosen as nibabel chooses it (sform when sform_code > 0, else qform when
// qform_code > 0, else Analyze's: pixdim scaling, x flipped, centred).

export const datatypes = {
  2: ['uint8', 1], 4: ['int16', 2], 8: ['int32', 4], 16: ['float32', 4], 64: ['float64', 8],
  256: ['int8', 1], 512: ['uint16', 2], 768: ['uint32', 4], 1024: ['int64', 8], 1280: ['uint64', 8],
} as const satisfies Record<number, readonly [string, number]>;
export type DatatypeName = (typeof datatypes)[keyof typeof datatypes][0];
export const datatypeCodes = Object.fromEntries(Object.entries(datatypes).map(([code, [name]]) => [name, Number(code)])) as Record<DatatypeName, number>;

export interface NiftiHeader {
  version: 1 | 2;
  littleEndian: boolean;
  /** dim[1..dim[0]]: x fastest. */
  dims: number[];
  datatype: number;
  pixdim: number[];
  voxOffset: number;
  sclSlope: number;
  sclInter: number;
  qformCode: number;
  sformCode: number;
  quatern: [number, number, number];
  qoffset: [number, number, number];
  srow: [number[], number[], number[]];
  xyztUnits: number;
  /** Time of the first volume (toffset), in the time unit of xyzt_units. */
  toffset: number;
  intentCode: number;
  descrip: string;
}

/**
 * What the header declares, checked before anything is read: 1-7 dimensions of at least one
 * voxel, a whole non-negative vox_offset, a datatype quiver reads. A damaged header would
 * otherwise size allocations (NIfTI-2's 64-bit fields can say anything).
 */
function checkHeader(h: NiftiHeader, ndim: number): NiftiHeader {
  if (!(ndim >= 1 && ndim <= 7)) throw new Error(`dim[0] is ${ndim}: a NIfTI image has 1 to 7 dimensions`);
  const bad = h.dims.findIndex((d) => !(d >= 1));
  if (bad >= 0) throw new Error(`dim[${bad + 1}] is ${h.dims[bad]}: every dimension holds at least one voxel`);
  if (!(Number.isInteger(h.voxOffset) && h.voxOffset >= 0)) throw new Error(`vox_offset is ${h.voxOffset}: not a byte offset`);
  if (!(h.datatype in datatypes)) throw new Error(`datatype ${h.datatype} is not one quiver reads (${Object.values(datatypes).map(([n]) => n).join(', ')})`);
  return h;
}

/** dim[0] as a count of dims to read: none when out of range (checkHeader then says so). */
const rank = (ndim: number) => (ndim >= 1 && ndim <= 7 ? ndim : 0);

/** xyzt_units' time unit (bits 3-5) as seconds per unit; `undefined` when it is no time (Hz, ppm, rad/s), NaN when unknown. */
export function secondsPerTimeUnit(xyztUnits: number): number | undefined {
  switch (xyztUnits & 0x38) {
    case 0: return NaN;
    case 8: return 1;
    case 16: return 1e-3;
    case 24: return 1e-6;
    default: return undefined;
  }
}

/** The voxel count, bytes per voxel, and where the data ends (vox_offset + voxels × bytes). */
export function niftiExtent(h: NiftiHeader): { voxels: number; bytesPer: number; end: number } {
  const voxels = h.dims.reduce((a, b) => a * b, 1);
  const bytesPer = datatypes[h.datatype as keyof typeof datatypes][1];
  return { voxels, bytesPer, end: h.voxOffset + voxels * bytesPer };
}

const text = (bytes: Uint8Array) => Buffer.from(bytes).toString('latin1').replace(/\0.*$/s, '');

/** The header at the start of `bytes`; an Error saying why when it is not a NIfTI header. */
export function parseNiftiHeader(bytes: Uint8Array): NiftiHeader {
  if (bytes.length < 348) throw new Error(`${bytes.length} bytes: shorter than a NIfTI header (348)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const size = (little: boolean) => view.getInt32(0, little);
  const littleEndian = size(true) === 348 || size(true) === 540;
  const version = size(littleEndian) === 540 ? 2 : size(littleEndian) === 348 ? 1 : 0;
  if (version === 0) throw new Error(`sizeof_hdr is ${size(true)}: not a NIfTI-1 (348) or NIfTI-2 (540) header`);
  const le = littleEndian;
  if (version === 1) {
    const magic = text(bytes.subarray(344, 348));
    if (magic !== 'n+1' && magic !== 'ni1') throw new Error(`magic ${JSON.stringify(magic)}: an Analyze 7.5 header, not NIfTI-1`);
    const i16 = (o: number) => view.getInt16(o, le);
    const f32 = (o: number) => view.getFloat32(o, le);
    const ndim = i16(40);
    return checkHeader({
      version, littleEndian, dims: Array.from({ length: rank(ndim) }, (_, i) => i16(42 + 2 * i)), datatype: i16(70),
      pixdim: Array.from({ length: 8 }, (_, i) => f32(76 + 4 * i)), voxOffset: f32(108), sclSlope: f32(112), sclInter: f32(116),
      qformCode: i16(252), sformCode: i16(254), quatern: [f32(256), f32(260), f32(264)], qoffset: [f32(268), f32(272), f32(276)],
      srow: [0, 1, 2].map((r) => [0, 1, 2, 3].map((c) => f32(280 + 16 * r + 4 * c))) as NiftiHeader['srow'],
      xyztUnits: bytes[123], toffset: f32(136), intentCode: i16(68), descrip: text(bytes.subarray(148, 228)),
    }, ndim);
  }
  if (bytes.length < 540) throw new Error(`${bytes.length} bytes: shorter than a NIfTI-2 header (540)`);
  const magic = text(bytes.subarray(4, 8));
  if (magic !== 'n+2' && magic !== 'ni2') throw new Error(`magic ${JSON.stringify(magic)}: not NIfTI-2`);
  const i64 = (o: number) => Number(view.getBigInt64(o, le));
  const f64 = (o: number) => view.getFloat64(o, le);
  const ndim = i64(16);
  return checkHeader({
    version, littleEndian, dims: Array.from({ length: rank(ndim) }, (_, i) => i64(24 + 8 * i)), datatype: view.getInt16(12, le),
    pixdim: Array.from({ length: 8 }, (_, i) => f64(104 + 8 * i)), voxOffset: i64(168), sclSlope: f64(176), sclInter: f64(184),
    qformCode: view.getInt32(344, le), sformCode: view.getInt32(348, le), quatern: [f64(352), f64(360), f64(368)], qoffset: [f64(376), f64(384), f64(392)],
    srow: [0, 1, 2].map((r) => [0, 1, 2, 3].map((c) => f64(400 + 32 * r + 8 * c))) as NiftiHeader['srow'],
    xyztUnits: view.getInt32(500, le), toffset: f64(216), intentCode: view.getInt32(504, le), descrip: text(bytes.subarray(240, 320)),
  }, ndim);
}

/** The rotation of quaternion (b, c, d) with a = √(1 − b² − c² − d²) (NIfTI-1 §qform). */
function quaternionMatrix([b, c, d]: [number, number, number]): number[][] {
  let a = 1 - (b * b + c * c + d * d);
  if (a < 1e-7) {
    // Within rounding of a unit quaternion with a = 0 (a 180° turn): normalise (b, c, d), as nibabel does.
    const n = Math.hypot(b, c, d);
    [b, c, d] = [b / n, c / n, d / n];
    a = 0;
  } else a = Math.sqrt(a);
  return [
    [a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c)],
    [2 * (b * c + a * d), a * a + c * c - b * b - d * d, 2 * (c * d - a * b)],
    [2 * (b * d - a * c), 2 * (c * d + a * b), a * a + d * d - c * c - b * b],
  ];
}

/** Voxel (i, j, k) → world (RAS mm), 4 × 4 row-major, and which form gave it. */
export function niftiAffine(h: NiftiHeader): { affine: number[]; form: 'sform' | 'qform' | 'analyze' } {
  if (h.sformCode > 0) return { affine: [...h.srow[0], ...h.srow[1], ...h.srow[2], 0, 0, 0, 1], form: 'sform' };
  const zooms = [1, 2, 3].map((i) => (h.dims.length >= i ? h.pixdim[i] : 1));
  if (h.qformCode > 0) {
    const qfac = h.pixdim[0] < 0 ? -1 : 1;
    const r = quaternionMatrix(h.quatern);
    const scale = [zooms[0], zooms[1], zooms[2] * qfac];
    return { affine: [0, 1, 2].flatMap((row) => [...r[row].map((v, col) => v * scale[col]), h.qoffset[row]]).concat([0, 0, 0, 1]), form: 'qform' };
  }
  const dims = [0, 1, 2].map((i) => h.dims[i] ?? 1);
  return {
    affine: [-zooms[0], 0, 0, ((dims[0] - 1) / 2) * zooms[0], 0, zooms[1], 0, -((dims[1] - 1) / 2) * zooms[1], 0, 0, zooms[2], -((dims[2] - 1) / 2) * zooms[2], 0, 0, 0, 1],
    form: 'analyze',
  };
}

/** Quaternion parameters of an affine's rotation, when it is one (orthogonal after removing zooms); else undefined. */
export function affineQuaternion(affine: number[]): { quatern: [number, number, number]; zooms: number[]; qfac: number } | undefined {
  const columns = [0, 1, 2].map((c) => [affine[c], affine[4 + c], affine[8 + c]]);
  const zooms = columns.map((v) => Math.hypot(v[0], v[1], v[2]));
  if (zooms.some((z) => z === 0)) return undefined;
  const r = columns.map((v, c) => v.map((x) => x / zooms[c]));
  for (let a = 0; a < 3; a++) for (let b = a + 1; b < 3; b++) if (Math.abs(r[a][0] * r[b][0] + r[a][1] * r[b][1] + r[a][2] * r[b][2]) > 1e-4) return undefined;
  // A left-handed frame: flip the third axis and record qfac −1.
  const det = r[0][0] * (r[1][1] * r[2][2] - r[1][2] * r[2][1]) - r[1][0] * (r[0][1] * r[2][2] - r[0][2] * r[2][1]) + r[2][0] * (r[0][1] * r[1][2] - r[0][2] * r[1][1]);
  const qfac = det < 0 ? -1 : 1;
  if (qfac < 0) r[2] = r[2].map((x) => -x);
  // m[row][col] with columns r[col].
  const m = (row: number, col: number) => r[col][row];
  const trace = m(0, 0) + m(1, 1) + m(2, 2);
  let a, b, c, d;
  if (trace > 0) {
    const s = 0.5 / Math.sqrt(trace + 1);
    [a, b, c, d] = [0.25 / s, (m(2, 1) - m(1, 2)) * s, (m(0, 2) - m(2, 0)) * s, (m(1, 0) - m(0, 1)) * s];
  } else if (m(0, 0) > m(1, 1) && m(0, 0) > m(2, 2)) {
    const s = 2 * Math.sqrt(1 + m(0, 0) - m(1, 1) - m(2, 2));
    [a, b, c, d] = [(m(2, 1) - m(1, 2)) / s, 0.25 * s, (m(0, 1) + m(1, 0)) / s, (m(0, 2) + m(2, 0)) / s];
  } else if (m(1, 1) > m(2, 2)) {
    const s = 2 * Math.sqrt(1 + m(1, 1) - m(0, 0) - m(2, 2));
    [a, b, c, d] = [(m(0, 2) - m(2, 0)) / s, (m(0, 1) + m(1, 0)) / s, 0.25 * s, (m(1, 2) + m(2, 1)) / s];
  } else {
    const s = 2 * Math.sqrt(1 + m(2, 2) - m(0, 0) - m(1, 1));
    [a, b, c, d] = [(m(1, 0) - m(0, 1)) / s, (m(0, 2) + m(2, 0)) / s, (m(1, 2) + m(2, 1)) / s, 0.25 * s];
  }
  if (a < 0) [b, c, d] = [-b, -c, -d]; // NIfTI keeps a ≥ 0
  return { quatern: [b, c, d], zooms, qfac };
}

/**
 * A little-endian NIfTI-1 header ("n+1", data at byte 352) for an image of `dims` (x fastest); with
 * `time`, a 4-D or 5-D series: pixdim[4] the repetition time in seconds, toffset, intent_code.
 */
export function niftiHeaderBytes(dims: number[], datatype: DatatypeName, affine: number[], descrip = '', time?: { tr: number; toffset: number; intentCode?: number }): Uint8Array {
  const bytes = new Uint8Array(352);
  const view = new DataView(bytes.buffer);
  const [, bytesPer] = datatypes[datatypeCodes[datatype] as keyof typeof datatypes];
  view.setInt32(0, 348, true);
  view.setInt16(40, dims.length, true);
  for (let i = 0; i < 7; i++) view.setInt16(42 + 2 * i, dims[i] ?? 1, true);
  view.setInt16(70, datatypeCodes[datatype], true);
  view.setInt16(72, bytesPer * 8, true);
  const q = affineQuaternion(affine);
  const zooms = q?.zooms ?? [0, 1, 2].map((c) => Math.hypot(affine[c], affine[4 + c], affine[8 + c]));
  view.setFloat32(76, q?.qfac ?? 1, true);
  zooms.forEach((z, i) => view.setFloat32(80 + 4 * i, z, true));
  view.setFloat32(108, 352, true);
  view.setFloat32(112, 1, true); // scl_slope 1, scl_inter 0: values as stored
  bytes[123] = time ? 2 | 8 : 2; // xyzt_units: millimetres (and seconds)
  if (time) {
    view.setFloat32(92, time.tr, true); // pixdim[4]: the repetition time
    for (let i = 5; i <= dims.length; i++) view.setFloat32(76 + 4 * i, 1, true); // pixdim[5..]: components
    view.setFloat32(136, time.toffset, true);
    view.setInt16(68, time.intentCode ?? 0, true);
  }
  bytes.set(Buffer.from(descrip.slice(0, 79), 'latin1'), 148);
  // sform always (aligned, code 2); qform too when the affine is a rotation (scanner, code 1).
  view.setInt16(254, 2, true);
  if (q) {
    view.setInt16(252, 1, true);
    q.quatern.forEach((v, i) => view.setFloat32(256 + 4 * i, v, true));
    [3, 7, 11].forEach((at, i) => view.setFloat32(268 + 4 * i, affine[at], true));
  }
  for (let r = 0; r < 3; r++) for (let c = 0; c < 4; c++) view.setFloat32(280 + 16 * r + 4 * c, affine[4 * r + c], true);
  bytes.set(Buffer.from('n+1\0', 'latin1'), 344);
  return bytes;
}
