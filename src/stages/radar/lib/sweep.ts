// Weather-radar sweeps as source.odim gives them: `data`, a [azimuth, range] tensor (the sweep's
// `nrays` × `nbins` in its top-left corner, NaN past them), `azimuth_deg` [azimuth] (ray centres,
// degrees clockwise from north), `elevation_deg`, `rscale_m`, `rstart_km`. And the beam geometry
// of the 4/3 effective-earth-radius model (Doviak & Zrnić 1993, eq. 2.28; wradlib's bin_altitude
// and bin_distance): a beam at elevation θ reaches, at slant range r, the height
// h = sqrt(r² + (ke·a)² + 2·r·ke·a·sin θ) − ke·a and the ground distance s = ke·a·asin(r·cos θ / (ke·a + h)).
import type { RecordBatch, Schema } from 'apache-arrow';
import { requireColumn } from '../../../arrow/columns.ts';
import { tensorInfo, tensorValues, type FloatArray } from '../../../arrow/tensor.ts';
import { ColumnTypeError } from '../../../workflow/errors.ts';

/** Earth's radius (m), as wradlib's default, and the effective-radius factor of standard refraction. */
export const EARTH_RADIUS_M = 6_371_000;
export const KE = 4 / 3;

/** Height (m) above the antenna of the beam centre at slant range `r` (m), elevation `elevationDeg`. */
export function beamHeight(r: number, elevationDeg: number, ke = KE, a = EARTH_RADIUS_M): number {
  const R = ke * a;
  return Math.sqrt(r * r + R * R + 2 * r * R * Math.sin((elevationDeg * Math.PI) / 180)) - R;
}

/** Ground (great-circle) distance (m) from the radar to the point under the beam at slant range `r`. */
export function groundRange(r: number, elevationDeg: number, ke = KE, a = EARTH_RADIUS_M): number {
  const R = ke * a;
  return R * Math.asin((r * Math.cos((elevationDeg * Math.PI) / 180)) / (R + beamHeight(r, elevationDeg, ke, a)));
}

/**
 * The slant range (m) at which the beam at `elevationDeg` is above ground distance `s`: the inverse
 * of groundRange (sine rule in the triangle earth centre, radar, bin: r = ke·a·sin φ / cos(θ + φ),
 * φ = s / (ke·a)); Infinity where the beam never gets there (θ + φ ≥ 90°).
 */
export function slantRange(s: number, elevationDeg: number, ke = KE, a = EARTH_RADIUS_M): number {
  const R = ke * a;
  const phi = s / R;
  const c = Math.cos((elevationDeg * Math.PI) / 180 + phi);
  return c > 0 ? (R * Math.sin(phi)) / c : Infinity;
}

export interface SweepShape {
  rays: number;
  bins: number;
}

/** The [azimuth, range] shape of `data`; a ColumnTypeError unless it and the geometry columns are there. */
export function sweepShape(schema: Schema, column = 'data'): SweepShape {
  const info = tensorInfo(schema, column);
  if (info.shape.length !== 2) throw new ColumnTypeError(column, 'a [azimuth, range] tensor (as source.odim reads)', `a tensor of shape ${JSON.stringify(info.shape)}`);
  const az = tensorInfo(schema, 'azimuth_deg');
  if (az.shape.length !== 1 || az.shape[0] !== info.shape[0]) throw new ColumnTypeError('azimuth_deg', `a [${info.shape[0]}] tensor of ray azimuths`, JSON.stringify(az.shape));
  for (const name of ['nrays', 'nbins', 'rscale_m', 'rstart_km', 'elevation_deg']) requireColumn(schema, name);
  return { rays: info.shape[0], bins: info.shape[1] };
}

/** One row's sweep: its values (a view), its extent within the tensor and its geometry. */
export interface Sweep {
  values: FloatArray;
  nrays: number;
  nbins: number;
  /** Row stride of `values` (the tensor's bins). */
  stride: number;
  rscale: number;
  /** Start of the first bin, metres. */
  rstart: number;
  elevation: number;
  azimuths: FloatArray;
}

export function sweepOf(batch: RecordBatch, row: number, shape: SweepShape, column = 'data'): Sweep {
  const size = shape.rays * shape.bins;
  const num = (name: string) => {
    const v = batch.getChild(name)!.get(row) as number | null;
    if (v === null || !Number.isFinite(Number(v))) throw new Error(`row ${row} has no '${name}'`);
    return Number(v);
  };
  const nrays = num('nrays'), nbins = num('nbins');
  if (nrays > shape.rays || nbins > shape.bins) throw new Error(`row ${row} says ${nrays} × ${nbins}, more than its ${shape.rays} × ${shape.bins} tensor`);
  return {
    values: tensorValues(batch, column).subarray(row * size, (row + 1) * size),
    nrays, nbins, stride: shape.bins,
    rscale: num('rscale_m'), rstart: num('rstart_km') * 1000, elevation: num('elevation_deg'),
    azimuths: tensorValues(batch, 'azimuth_deg').subarray(row * shape.rays, row * shape.rays + nrays),
  };
}

/** Nearest ray to an azimuth (degrees), for a sweep's ray centres (any order): a lookup by 0.01°. */
export function rayLookup(azimuths: FloatArray): (azimuthDeg: number) => number {
  const steps = 36_000;
  const table = new Int32Array(steps);
  const order = Array.from(azimuths.keys()).sort((a, b) => azimuths[a] - azimuths[b]);
  const sorted = order.map((i) => ((azimuths[i] % 360) + 360) % 360);
  let k = 0;
  const dist = (a: number, b: number) => Math.min(Math.abs(a - b), 360 - Math.abs(a - b));
  for (let s = 0; s < steps; s++) {
    const az = (s + 0.5) * (360 / steps);
    while (k + 1 < sorted.length && sorted[k + 1] <= az) k++;
    // Candidates: the ray at or below, the one above, and the wrap-around neighbours.
    let best = order[k], bestD = dist(sorted[k], az);
    for (const j of [k + 1, 0, sorted.length - 1]) {
      if (j < sorted.length && dist(sorted[j], az) < bestD) { best = order[j]; bestD = dist(sorted[j], az); }
    }
    table[s] = best;
  }
  return (azimuthDeg) => table[Math.min(steps - 1, Math.floor((((azimuthDeg % 360) + 360) % 360) * (steps / 360)))];
}
