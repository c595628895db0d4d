// World coordinates of FITS images (Greisen & Calabretta 2002, Calabretta & Greisen 2002), computed as
// WCSLIB — and so astropy.wcs — computes them: pixel → intermediate world coordinates by CRPIX and CD, or
// PC × CDELT, or the old CROTA2 → native spherical (φ, θ) by the projection (TAN, SIN with slant, ZPN, CAR,
// CEA) → celestial by the rotation of Paper II eqs. 2 and 5, whose Euler angles come from CRVAL, LONPOLE and
// LATPOLE (Paper II §2.4 defaults). Celestial axes in arcsec, arcmin, mas or rad are taken to degrees first,
// as astropy does (its wcs.cunit then reads 'deg'); results are always degrees.
//
// Longitudes are wrapped as WCSLIB's sphx2s wraps them. α_p, the celestial longitude of the native pole, is
// CRVAL1 itself for the zenithal projections and is given CRVAL1's sign for the cylindrical ones; every
// longitude then gets α_p's sign: 360 is added to a negative one when α_p ≥ 0 and taken from a positive one
// when α_p < 0, and one past ±360 is brought back by 360. Results lie in [0, 360] for CRVAL1 ≥ 0 and in
// [-360, 0] for CRVAL1 < 0: the AIA image, CRVAL1 = -4.5″, gives -359.66 for the point at +0.34°.
const D2R = Math.PI / 180;
const R2D = 180 / Math.PI;

/** Header keyword values as the FITS reader gives them (strings trimmed, numbers, booleans; integers as bigint, or as their decimal text in its JSON header). */
export type HeaderValues = (keyword: string) => string | number | boolean | bigint | null | undefined;
export type Projection = 'TAN' | 'SIN' | 'ZPN' | 'CAR' | 'CEA';
const projections: readonly Projection[] = ['TAN', 'SIN', 'ZPN', 'CAR', 'CEA'];

/** Degrees per CUNIT of a celestial axis; no CUNIT means degrees. */
const degreesPerUnit: Record<string, number> = { '': 1, deg: 1, degree: 1, degrees: 1, arcmin: 1 / 60, arcsec: 1 / 3600, mas: 1 / 3.6e6, rad: R2D };

// Degree trigonometry as WCSLIB's wcstrig.c: exact at multiples of 90°, and atan2d(±0, x < 0) = +180, so
// that points on a boundary (a pole, the antimeridian) come out on the side astropy puts them.
const TRIG_TOL = 1e-10;
const cosd = (a: number) => (a % 90 === 0 ? [1, 0, -1, 0][Math.abs(Math.floor(a / 90 + 0.5)) % 4] : Math.cos(a * D2R));
const sind = (a: number) => (a % 90 === 0 ? [1, 0, -1, 0][Math.abs(Math.floor(a / 90 - 0.5)) % 4] : Math.sin(a * D2R));
function atan2d(y: number, x: number): number {
  if (y === 0) {
    if (x >= 0) return 0;
    if (x < 0) return 180;
  } else if (x === 0) return y > 0 ? 90 : -90;
  return Math.atan2(y, x) * R2D;
}
function asind(v: number): number {
  if (v <= -1 && v + 1 > -TRIG_TOL) return -90;
  if (v >= 1 && v - 1 < TRIG_TOL) return 90;
  return v === 0 ? 0 : Math.asin(v) * R2D;
}
function acosd(v: number): number {
  if (v >= 1 && v - 1 < TRIG_TOL) return 0;
  if (v <= -1 && v + 1 > -TRIG_TOL) return 180;
  return v === 0 ? 90 : Math.acos(v) * R2D;
}
const outside = (): [number, number] => [NaN, NaN];

/** Intermediate world coordinates (x, y) ↔ native spherical (φ, θ), degrees; NaN outside the projection's domain. */
interface SphericalProjection {
  /** Native latitude of the fiducial point: 90 for the zenithal projections, 0 for the cylindrical (φ0 is 0 for all five). */
  theta0: number;
  toNative(x: number, y: number): [number, number];
  fromNative(phi: number, theta: number): [number, number];
}

const tanProjection: SphericalProjection = {
  theta0: 90,
  toNative(x, y) {
    const r = Math.sqrt(x * x + y * y);
    return [r === 0 ? 0 : atan2d(x, -y), atan2d(R2D, r)];
  },
  fromNative(phi, theta) {
    const s = sind(theta);
    if (s <= 0) return outside(); // on or behind the horizon
    const r = (R2D * cosd(theta)) / s;
    return [r * sind(phi), -r * cosd(phi)];
  },
};

/** SIN; with the slant (ξ, η) = (PV2_1, PV2_2) of a synthesis map, Paper II eqs. 43–49. */
function sinProjection(xi: number, eta: number): SphericalProjection {
  const slant2 = xi * xi + eta * eta;
  return {
    theta0: 90,
    toNative(x, y) {
      const [x0, y0] = [x * D2R, y * D2R];
      const r2 = x0 * x0 + y0 * y0;
      if (slant2 === 0) {
        if (r2 > 1) return outside();
        // θ from whichever of cos θ, sin θ is the smaller, for precision.
        return [r2 === 0 ? 0 : atan2d(x0, -y0), r2 < 0.5 ? acosd(Math.sqrt(r2)) : asind(Math.sqrt(1 - r2))];
      }
      const xy = x0 * xi + y0 * eta;
      let theta: number;
      let z: number; // 1 − sin θ
      if (r2 < 1e-10) {
        z = r2 / 2;
        theta = 90 - R2D * Math.sqrt(r2 / (1 + xy));
      } else {
        // sin θ solves a quadratic; the root nearer the pole is the one on the visible side.
        const a = slant2 + 1;
        const b = xy - slant2;
        const c = r2 - xy - xy + slant2 - 1;
        const d = b * b - a * c;
        if (d < 0) return outside();
        const roots = [(-b + Math.sqrt(d)) / a, (-b - Math.sqrt(d)) / a];
        let s = Math.max(...roots);
        if (s > 1) s = s - 1 < 1e-13 ? 1 : Math.min(...roots);
        if (s < -1 && s + 1 > -1e-13) s = -1;
        if (s > 1 || s < -1) return outside();
        theta = asind(s);
        z = 1 - s;
      }
      const [u, v] = [-y0 + eta * z, x0 - xi * z];
      return [u === 0 && v === 0 ? 0 : atan2d(v, u), theta];
    },
    fromNative(phi, theta) {
      // 1 − sin θ and cos θ by their series within 2″ of a pole, where the plain formulas lose digits.
      const t = (90 - Math.abs(theta)) * D2R;
      const [z, cosTheta] = t < 1e-5 ? [theta > 0 ? (t * t) / 2 : 2 - (t * t) / 2, t] : [1 - sind(theta), cosd(theta)];
      const r = R2D * cosTheta;
      if (slant2 === 0) return theta < 0 ? outside() : [r * sind(phi), -r * cosd(phi)];
      if (theta < -Math.atan(xi * sind(phi) - eta * cosd(phi)) * R2D) return outside(); // behind the slanted limb
      return [r * sind(phi) + xi * (z * R2D), -r * cosd(phi) + eta * (z * R2D)];
    },
  };
}

/** ZPN: R = Σ PV2_m u^m (radians, u = 90° − θ, m = 0…29 as WCSLIB reads them), inverted as WCSLIB does. */
function zpnProjection(pv: number[]): SphericalProjection {
  const tol = 1e-13;
  let n = pv.length - 1;
  while (n >= 0 && pv[n] === 0) n--;
  if (n < 1) throw new Error('ZPN needs PV2_1 or a higher coefficient');
  const coefficients = pv.slice(0, n + 1);
  const radius = (u: number) => coefficients.reduceRight((r, p) => r * u + p, 0);
  const slope = (u: number) => coefficients.reduceRight((d, p, m) => (m === 0 ? d : d * u + m * p), 0);
  // R only has an inverse out to uMax, where it stops rising: the first zero of dR/du, bracketed on a 1° grid
  // and refined by regula falsi (π where R rises all the way).
  let uMax = Math.PI;
  if (n >= 2) {
    if (pv[1] <= 0) throw new Error('ZPN needs PV2_1 > 0');
    let [u1, d1, u2, d2] = [0, pv[1], 0, 0];
    let step = 0;
    for (; step < 180; step++) {
      [u2, d2] = [step * D2R, slope(step * D2R)];
      if (d2 <= 0) break;
      [u1, d1] = [u2, d2];
    }
    for (let k = 0; step < 180 && k < 10; k++) {
      uMax = u1 - (d1 * (u2 - u1)) / (d2 - d1);
      const d = slope(uMax);
      if (Math.abs(d) < tol) break;
      if (d < 0) [u2, d2] = [uMax, d];
      else [u1, d1] = [uMax, d];
    }
  }
  const rMax = radius(uMax);

  /** The colatitude u (radians) with R(u) = r, NaN where there is none. */
  function colatitude(r: number): number {
    if (n === 1) return (r - pv[0]) / pv[1];
    if (n === 2) {
      const [a, b, c] = [pv[2], pv[1], pv[0] - r];
      const d = b * b - 4 * a * c;
      if (d < 0) return NaN;
      const roots = [(-b + Math.sqrt(d)) / (2 * a), (-b - Math.sqrt(d)) / (2 * a)];
      let u = Math.min(...roots);
      if (u < -tol) u = Math.max(...roots);
      if (u < -tol || u > Math.PI + tol) return NaN;
      return Math.min(Math.PI, Math.max(0, u));
    }
    let [u1, r1, u2, r2] = [0, pv[0], uMax, rMax];
    if (r < r1) return r < r1 - tol ? NaN : u1;
    if (r > r2) return r > r2 + tol ? NaN : u2;
    // Regula falsi, each step kept at least a tenth of the interval from its ends.
    let u = u1;
    for (let k = 0; k < 100; k++) {
      u = u2 - Math.min(0.9, Math.max(0.1, (r2 - r) / (r2 - r1))) * (u2 - u1);
      const rt = radius(u);
      if (Math.abs(rt - r) < tol) break;
      if (rt < r) [u1, r1] = [u, rt];
      else [u2, r2] = [u, rt];
      if (Math.abs(u2 - u1) < tol) break;
    }
    return u;
  }

  return {
    theta0: 90,
    toNative(x, y) {
      const r = Math.sqrt(x * x + y * y);
      return [r === 0 ? 0 : atan2d(x, -y), 90 - colatitude(r / R2D) * R2D];
    },
    fromNative(phi, theta) {
      const u = (90 - theta) * D2R;
      if (u > uMax) return outside();
      const r = radius(u) * R2D;
      return [r * sind(phi), -r * cosd(phi)];
    },
  };
}

const carProjection: SphericalProjection = { theta0: 0, toNative: (x, y) => [x, y], fromNative: (phi, theta) => [phi, theta] };

/** CEA with λ = PV2_1 (default 1), the squared cosine of the latitude where it is true to shape. */
function ceaProjection(lambda: number): SphericalProjection {
  if (!(lambda > 0 && lambda <= 1)) throw new Error(`CEA needs 0 < PV2_1 ≤ 1, not ${lambda}`);
  return {
    theta0: 0,
    toNative(x, y) {
      const s = (lambda / R2D) * y;
      if (Math.abs(s) <= 1) return [x, asind(s)];
      return Math.abs(s) > 1 + 1e-13 ? outside() : [x, Math.sign(s) * 90];
    },
    fromNative: (phi, theta) => [phi, (R2D / lambda) * sind(theta)],
  };
}

/** Native coordinates a hair outside [−180, 180] × [−90, 90] are rounding and are clamped; further out (or NaN) is off the sphere. */
function onSphere([phi, theta]: [number, number]): [number, number] {
  const tol = 1e-13;
  if (!(phi >= -180 - tol && phi <= 180 + tol && theta >= -90 - tol && theta <= 90 + tol)) return outside();
  return [Math.min(180, Math.max(-180, phi)), Math.min(90, Math.max(-90, theta))];
}

/** The rotation from native to celestial: α_p, 90° − δ_p with its cosine and sine, and φ_p. */
interface Euler { lng: number; colat: number; cos: number; sin: number; phi: number }

/** Paper II §2.4 as WCSLIB's celset: where the native pole lies on the sky, given the reference point (CRVAL) at the fiducial point (0, θ0). */
function eulerAngles(lng0: number, lat0: number, theta0: number, lonpole: number | undefined, latpole: number): Euler {
  const tol = 1e-10;
  const phiP = lonpole ?? (lat0 < theta0 ? 180 : 0);
  let [lngP, latP] = [lng0, lat0]; // zenithal: the fiducial point is the native pole
  if (theta0 !== 90) {
    const [slat0, clat0] = [sind(lat0), cosd(lat0)];
    const [sthe0, cthe0] = [sind(theta0), cosd(theta0)];
    const [sphip, cphip] = phiP === 0 ? [0, 1] : [sind(phiP), cosd(phiP)];
    const [x, y] = [cthe0 * cphip, sthe0];
    const z = Math.sqrt(x * x + y * y);
    if (phiP !== 0 && z === 0) {
      // cos θ0 cos φ_p = sin θ0 = 0: any δ_p fits the equator, and LATPOLE alone decides.
      if (slat0 !== 0) throw new Error('with LONPOLE ±90 a cylindrical projection needs its reference latitude at 0');
      latP = Math.min(90, Math.max(-90, latpole));
    } else {
      // δ_p solves Paper II eq. 8; of its two roots LATPOLE picks the nearer that is a latitude. A reference
      // latitude out of reach (|sin δ0 / z| > 1) gives NaN roots, which are none.
      const slz = Math.abs(slat0 / z) - 1 < tol ? Math.min(1, Math.max(-1, slat0 / z)) : NaN;
      const [u, v] = phiP === 0 ? [theta0, 90 - lat0] : [atan2d(y, x), acosd(slz)];
      const [p1, p2] = [u + v, u - v].map((l) => (l > 180 ? l - 360 : l < -180 ? l + 360 : l));
      const latitude = (l: number) => Math.abs(l) < 90 + tol;
      latP = Math.abs(latpole - p1) < Math.abs(latpole - p2) ? (latitude(p1) ? p1 : p2) : latitude(p2) ? p2 : p1;
      if (!latitude(latP)) throw new Error(`no native pole puts the reference point at latitude ${lat0} with LONPOLE ${phiP}`);
      latP = Math.min(90, Math.max(-90, latP));
    }
    const w = cosd(latP) * clat0;
    if (Math.abs(w) < tol) {
      // The reference point is a celestial pole, or the celestial pole is the native pole.
      lngP = Math.abs(clat0) < tol ? lng0 : latP > 0 ? lng0 + phiP - 180 : lng0 - phiP;
    } else {
      lngP = lng0 - atan2d((sphip * cthe0) / clat0, (sthe0 - sind(latP) * slat0) / w);
    }
    if (lng0 >= 0) {
      if (lngP < 0) lngP += 360;
      else if (lngP > 360) lngP -= 360;
    } else if (lngP > 0) lngP -= 360;
    else if (lngP < -360) lngP += 360;
  }
  const colat = 90 - latP;
  return { lng: lngP, colat, cos: cosd(colat), sin: sind(colat), phi: phiP };
}

/** Moves a longitude by 360° to α_p's side of 0, and back within ±360 (WCSLIB's sphx2s). */
function wrapLongitude(lng: number, lngP: number): number {
  if (lngP >= 0 ? lng < 0 : lng > 0) lng += lngP >= 0 ? 360 : -360;
  if (lng > 360) return lng - 360;
  return lng < -360 ? lng + 360 : lng;
}

/** Latitude from its sine z, or, near ±90 where asin loses digits, from the cosine √(x² + y²). */
function latitudeOf(z: number, x: number, y: number): number {
  return Math.abs(z) > 0.99 ? Math.sign(z) * acosd(Math.sqrt(x * x + y * y)) : asind(z);
}

/** Paper II eq. 2: native (φ, θ) → celestial (α, δ), as WCSLIB's sphx2s. */
function nativeToCelestial(e: Euler, phi: number, theta: number): [number, number] {
  if (e.sin === 0) {
    // The poles coincide (or are opposite): only the origin of longitude moves.
    if (e.colat === 0) return [wrapLongitude(phi + ((e.lng + 180 - e.phi) % 360), e.lng), theta];
    return [wrapLongitude(((e.lng + e.phi) % 360) - phi, e.lng), -theta];
  }
  const dphi = phi - e.phi;
  const [st, ct, sp, cp] = [sind(theta), cosd(theta), sind(dphi), cosd(dphi)];
  let x = st * e.sin - ct * e.cos * cp;
  if (Math.abs(x) < 1e-5) x = -cosd(theta + e.colat) + ct * e.cos * (1 - cp); // the same, with less cancellation
  const y = -ct * sp;
  const dlng = x !== 0 || y !== 0 ? atan2d(y, x) : e.colat < 90 ? dphi + 180 : -dphi;
  let lat: number;
  if (dphi % 180 === 0) {
    lat = theta + cp * e.colat;
    if (lat > 90) lat = 180 - lat;
    if (lat < -90) lat = -180 - lat;
  } else lat = latitudeOf(st * e.cos + ct * e.sin * cp, x, y);
  return [wrapLongitude(e.lng + dlng, e.lng), lat];
}

/** Paper II eq. 5: celestial (α, δ) → native (φ, θ), φ in [−180, 180], as WCSLIB's sphs2x. */
function celestialToNative(e: Euler, lng: number, lat: number): [number, number] {
  let phi: number;
  let theta: number;
  if (e.sin === 0) {
    if (e.colat === 0) [phi, theta] = [(lng + ((e.phi - 180 - e.lng) % 360)) % 360, lat];
    else [phi, theta] = [(((e.phi + e.lng) % 360) - lng) % 360, -lat];
  } else {
    const dlng = lng - e.lng;
    const [sl, cl, sd, cd] = [sind(lat), cosd(lat), sind(dlng), cosd(dlng)];
    let x = sl * e.sin - cl * e.cos * cd;
    if (Math.abs(x) < 1e-5) x = -cosd(lat + e.colat) + cl * e.cos * (1 - cd);
    const y = -cl * sd;
    const dphi = x !== 0 || y !== 0 ? atan2d(y, x) : e.colat < 90 ? dlng - 180 : -dlng;
    phi = (e.phi + dphi) % 360;
    if (dlng % 180 === 0) {
      theta = lat + cd * e.colat;
      if (theta > 90) theta = 180 - theta;
      if (theta < -90) theta = -180 - theta;
    } else theta = latitudeOf(sl * e.cos + cl * e.sin * cd, x, y);
  }
  if (phi > 180) phi -= 360;
  else if (phi < -180) phi += 360;
  return [phi, theta];
}

/** A celestial CTYPE: longitude or latitude, the pair it belongs to, its projection code and anything after it. */
function celestialType(ctype: string | undefined) {
  const m = /^(RA--|DEC-|[A-Z]LON|[A-Z]LAT|[A-Z]{2}LN|[A-Z]{2}LT)-(.{3})(-.*)?$/.exec(ctype ?? '');
  if (!m) return undefined;
  const [, axis, code, suffix] = m;
  const longitude = axis === 'RA--' || axis.endsWith('LON') || axis.endsWith('LN');
  const pair = axis === 'RA--' || axis === 'DEC-' ? 'RA/DEC' : axis.endsWith('LON') || axis.endsWith('LAT') ? `${axis[0]}LON/${axis[0]}LAT` : `${axis.slice(0, 2)}LN/LT`;
  return { longitude, pair, code, suffix };
}
type CelestialType = NonNullable<ReturnType<typeof celestialType>>;

/** The first longitude axis with a latitude partner of the same kind, as ascending FITS axis numbers. */
function firstPair(types: Map<number, CelestialType>): [number, number] | undefined {
  for (const [i, t] of types) {
    if (!t.longitude) continue;
    const partner = [...types].find(([, u]) => !u.longitude && u.pair === t.pair);
    if (partner) return i < partner[0] ? [i, partner[0]] : [partner[0], i];
  }
  return undefined;
}

export class Wcs {
  /** Units of the world coordinates returned: degrees whatever the header's CUNIT, as astropy reports after converting. */
  readonly cunit: [string, string] = ['deg', 'deg'];
  private readonly inverse: [number, number, number, number];

  private constructor(
    readonly projection: Projection,
    /** CTYPE of the longitude and latitude axes. */
    readonly ctype: [string, string],
    private readonly crpix: [number, number],
    /** Pixel offsets along the two axes → intermediate longitude, latitude (degrees), row-major. */
    private readonly matrix: [number, number, number, number],
    private readonly sphere: SphericalProjection,
    private readonly euler: Euler,
  ) {
    const [m0, m1, m2, m3] = matrix;
    const det = m0 * m3 - m1 * m2;
    if (!(det !== 0 && Number.isFinite(det))) throw new Error('the CD / PC × CDELT matrix is singular');
    this.inverse = [m3 / det, -m1 / det, -m2 / det, m0 / det];
  }

  /**
   * The celestial WCS of a header: the first longitude/latitude pair of axes whose CTYPE has a projection code
   * (RA/DEC, xLON/xLAT, xyLN/xyLT), or the FITS axes `axes`; pixel x runs along the first of the two axes, y
   * along the second. Both PC and CD in a header: PC × CDELT is used, as WCSLIB does.
   */
  static fromHeader(get: HeaderValues, axes?: [number, number]): Wcs {
    const wcs = Wcs.fromHeaderIfAny(get, axes);
    if (!wcs) throw new Error('the header has no celestial axes (a CTYPEn pair like RA---TAN, DEC--TAN)');
    return wcs;
  }

  /** As fromHeader, or undefined where no pair of axes is celestial. */
  static fromHeaderIfAny(get: HeaderValues, axes?: [number, number]): Wcs | undefined {
    const text = (k: string) => {
      const v = get(k);
      return typeof v === 'string' ? v.trim() : undefined;
    };
    const number = (k: string) => {
      const v = get(k);
      if (typeof v === 'number' || typeof v === 'bigint') return Number(v);
      return typeof v === 'string' && /^[+-]?\d+$/.test(v.trim()) ? Number(v) : undefined;
    };
    const types = new Map<number, CelestialType>();
    for (let i = 1; i <= 99; i++) {
      const t = celestialType(text(`CTYPE${i}`));
      if (t) types.set(i, t);
    }
    const pixelAxes = axes ?? firstPair(types);
    if (!pixelAxes) return undefined;
    const [a, b] = pixelAxes;
    const [ta, tb] = [types.get(a), types.get(b)];
    if (!ta || !tb || ta.pair !== tb.pair || ta.longitude === tb.longitude) {
      throw new Error(`CTYPE${a} '${text(`CTYPE${a}`) ?? ''}' and CTYPE${b} '${text(`CTYPE${b}`) ?? ''}' are not a longitude/latitude pair`);
    }
    const [lng, lat] = ta.longitude ? [a, b] : [b, a];
    const ctype: [string, string] = [text(`CTYPE${lng}`)!, text(`CTYPE${lat}`)!];
    if (ta.code !== tb.code) throw new Error(`the celestial axes disagree on the projection: ${ctype.join(', ')}`);
    if (!projections.includes(ta.code as Projection)) {
      throw new Error(`unsupported projection ${ta.code} (${ctype[0]}): only ${projections.join(', ')} are implemented`);
    }
    const suffix = ta.suffix ?? tb.suffix;
    if (suffix) throw new Error(`unsupported distortion ${suffix.slice(1)} (${ctype[0]}): only plain projections are implemented`);

    const toDegrees = [lng, lat].map((i) => {
      const unit = text(`CUNIT${i}`) ?? '';
      const factor = degreesPerUnit[unit.toLowerCase()];
      if (factor === undefined) throw new Error(`CUNIT${i} '${unit}' is not an angle unit (deg, arcmin, arcsec, mas or rad)`);
      return factor;
    });
    const crval = [lng, lat].map((i, k) => (number(`CRVAL${i}`) ?? 0) * toDegrees[k]);
    const cdelt = [lng, lat].map((i, k) => (number(`CDELT${i}`) ?? 1) * toDegrees[k]);
    // Rows: the longitude and latitude world axes; columns: the pixel axes a, b.
    const cells = [lng, lat].flatMap((r, row) => [a, b].map((c) => ({ r, c, row })));
    const present = (prefix: string) => cells.some(({ r, c }) => number(`${prefix}${r}_${c}`) !== undefined);
    let matrix: number[];
    if (!present('PC') && present('CD')) {
      matrix = cells.map(({ r, c, row }) => (number(`CD${r}_${c}`) ?? 0) * toDegrees[row]);
    } else {
      const rho = present('PC') ? 0 : (number(`CROTA${lat}`) ?? 0);
      // Paper II eq. 188: CROTA2 as a PC matrix, with λ = CDELT(lat) / CDELT(lng) keeping it a rotation on the sky.
      const lambda = cdelt[1] / cdelt[0];
      const crota = (r: number, c: number) => (r === c ? cosd(rho) : r === lng ? -sind(rho) * lambda : sind(rho) / lambda);
      matrix = cells.map(({ r, c, row }) => cdelt[row] * (rho !== 0 ? crota(r, c) : (number(`PC${r}_${c}`) ?? (r === c ? 1 : 0))));
    }

    const projection = ta.code as Projection;
    const pv = (m: number) => number(`PV${lat}_${m}`);
    const sphere = projection === 'TAN' ? tanProjection
      : projection === 'SIN' ? sinProjection(pv(1) ?? 0, pv(2) ?? 0)
      : projection === 'ZPN' ? zpnProjection(Array.from({ length: 30 }, (_, m) => pv(m) ?? 0))
      : projection === 'CAR' ? carProjection
      : ceaProjection(pv(1) ?? 1);
    const euler = eulerAngles(crval[0], crval[1], sphere.theta0, number('LONPOLE'), number('LATPOLE') ?? 90);
    const crpix: [number, number] = [number(`CRPIX${a}`) ?? 0, number(`CRPIX${b}`) ?? 0];
    return new Wcs(projection, ctype, crpix, matrix as [number, number, number, number], sphere, euler);
  }

  /** Zero-based pixel coordinates (x along the first celestial axis, NAXIS1 usually) → world (longitude, latitude) in degrees; NaN off the projection. */
  pixelToWorld(x: number, y: number): [number, number] {
    const [dx, dy] = [x + 1 - this.crpix[0], y + 1 - this.crpix[1]];
    const [m0, m1, m2, m3] = this.matrix;
    const [phi, theta] = onSphere(this.sphere.toNative(m0 * dx + m1 * dy, m2 * dx + m3 * dy));
    return nativeToCelestial(this.euler, phi, theta);
  }

  /** World (longitude, latitude) in degrees → zero-based pixel coordinates; NaN where the projection does not reach. */
  worldToPixel(lon: number, lat: number): [number, number] {
    const [phi, theta] = celestialToNative(this.euler, lon, lat);
    const [u, v] = this.sphere.fromNative(phi, theta);
    const [i0, i1, i2, i3] = this.inverse;
    return [i0 * u + i1 * v + this.crpix[0] - 1, i2 * u + i3 * v + this.crpix[1] - 1];
  }

  /** Many at once: flat x, y pairs → flat longitude, latitude pairs. */
  pixelsToWorld(xy: Float64Array): Float64Array {
    const out = new Float64Array(xy.length);
    for (let i = 0; i + 1 < xy.length; i += 2) [out[i], out[i + 1]] = this.pixelToWorld(xy[i], xy[i + 1]);
    return out;
  }
}
